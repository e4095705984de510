import ArgumentParser
import CommandSupport
import Foundation

extension Grade {
    /// Editions of the kit for a course.
    struct Package: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the student edition of the kit, or Gradescope's autograder.",
            subcommands: [Student.self, Gradescope.self]
        )

        struct Student: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract:
                    "Write the kit without its solutions (and with GitHub Classroom's workflow) into a new folder.")

            @Option(help: "The folder to write (new or empty).")
            var output: String

            func run() throws {
                guard Edition.hasSolutions else { throw CommandFailure("this is already the student edition") }
                let folder = URL(fileURLWithPath: output)
                try StudentEdition.write(from: packageRoot, to: folder)
                print(
                    "The student edition is in \(folder.path) (GitHub Classroom's workflow: .github/workflows/classroom.yml)."
                )
            }
        }

        struct Gradescope: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Write autograder.zip for Gradescope: setup.sh, run_autograder and the student edition.")

            @Option(help: "The folder for autograder.zip.")
            var output: String

            func run() throws {
                guard Edition.hasSolutions else { throw CommandFailure("package the autograder from the full kit") }
                let zip = try GradescopeAutograder.write(from: packageRoot, to: URL(fileURLWithPath: output))
                print("Gradescope's autograder: \(zip.path)")
            }
        }
    }
}
