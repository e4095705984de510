import Checks
import CommandSupport
import Foundation

/// The kit as students receive it in a course: the full kit without the
/// reference solutions and without what names them (their runner, the
/// known-mistake suite, the training tests and the benchmarks).
enum StudentEdition {
    /// Paths of the full kit that the student edition leaves out.
    static let excluded = [
        "Solutions/", "Sources/solutions-runner/", "Sources/bench/", "bench/", "Tests/ReferenceTests/",
        "Tests/DiffusionTests/", ".ci/", ".github/",
    ]

    /// The files of the kit at `root`, relative to it: what git tracks, or
    /// every file but build products where there is no git checkout.
    static func files(in root: URL) throws -> [String] {
        if FileManager.default.fileExists(atPath: root.appendingPathComponent(".git").path) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [
                "git", "-C", root.path, "ls-files", "-z", "--cached", "--others", "--exclude-standard",
            ]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            try process.run()
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            if process.terminationStatus == 0 {
                // Tracked and new files, less those deleted from the working tree.
                return String(decoding: data, as: UTF8.self).split(separator: "\0").map(String.init).filter {
                    FileManager.default.fileExists(atPath: root.appendingPathComponent($0).path)
                }
            }
        }
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey])
        else { return [] }
        var files: [String] = []
        for case let url as URL in walker {
            let path = String(url.path.dropFirst(root.path.count + 1))
            if path.hasPrefix(".build") || path.hasPrefix("output") || path.hasPrefix(".swiftpm")
                || path.hasPrefix(".git/")
            {
                walker.skipDescendants()
                continue
            }
            if (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true { files.append(path) }
        }
        return files
    }

    /// Writes the student edition of the kit at `root` into `destination`
    /// (which must not exist yet or be empty), with the GitHub Classroom
    /// workflow in `.github/workflows/classroom.yml`.
    static func write(from root: URL, to destination: URL) throws {
        let manager = FileManager.default
        if manager.fileExists(atPath: destination.path),
            let contents = try? manager.contentsOfDirectory(atPath: destination.path),
            !contents.isEmpty
        {
            throw CommandFailure("\(destination.path) is not empty: choose a new folder for the edition")
        }
        for path in try files(in: root) where !excluded.contains(where: { path.hasPrefix($0) }) {
            let source = root.appendingPathComponent(path), target = destination.appendingPathComponent(path)
            try manager.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try manager.copyItem(at: source, to: target)
        }
        let workflow = destination.appendingPathComponent(".github/workflows/classroom.yml")
        try manager.createDirectory(at: workflow.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(ClassroomWorkflow.yaml().utf8).write(to: workflow, options: .atomic)
        let readme = destination.appendingPathComponent("README.md")
        if let text = try? String(contentsOf: readme, encoding: .utf8) {
            let note = """
                > **Student edition.** This copy of the kit has no reference solutions: `--solutions` is not
                > available, and the grader checks your own functions in `Exercises/`.

                """
            try Data((note + "\n" + text).utf8).write(to: readme, options: .atomic)
        }
    }
}

/// GitHub Classroom's autograding workflow for the student edition: one
/// test per exercise, worth the exercise's points, passed when
/// `swift run grade exerciseN` exits 0.
enum ClassroomWorkflow {
    static func yaml() -> String {
        let exercises = Catalog.exercises
        var text = """
            # GitHub Classroom autograding for the D3PM Kit (written by `swift run grade package student`).
            # Each exercise is one test, worth its points; it passes when the kit's grader passes it.
            name: Autograding Tests
            'on':
            - push
            - repository_dispatch
            permissions:
              checks: write
              actions: read
              contents: read
            jobs:
              run-autograding-tests:
                runs-on: ubuntu-latest
                if: github.actor != 'github-classroom[bot]'
                container: swift:6.1
                steps:
                - name: Checkout code
                  uses: actions/checkout@v4
                - name: Install the system packages
                  run: apt-get update -qq && apt-get install -y -qq --no-install-recommends gnuplot-nox zlib1g-dev pkg-config
                - name: Build the grader
                  run: swift build --product grade

            """
        for exercise in exercises {
            let points = exercise.checks.reduce(0) { $0 + $1.points }
            text += """
                    - name: \(exercise.id)
                      id: \(exercise.id)
                      uses: classroom-resources/autograding-command-grader@v1
                      with:
                        test-name: \(exercise.id)
                        setup-command: ''
                        command: swift run grade \(exercise.id) --no-figures
                        timeout: 10
                        max-score: \(points)

                """
        }
        text += """
                - name: Autograding Reporter
                  uses: classroom-resources/autograding-grading-reporter@v1
                  env:

            """
        for exercise in exercises {
            text += "          \(exercise.id.uppercased())_RESULTS: \"${{steps.\(exercise.id).outputs.result}}\"\n"
        }
        text += """
                  with:
                    runners: \(exercises.map(\.id).joined(separator: ","))

            """
        return text
    }
}
