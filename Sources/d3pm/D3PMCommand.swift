import ArgumentParser
import Checks
import CommandSupport
import Foundation

/// Train the practical's model, sample digits, and probe the corruption.
@main
struct D3PMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "d3pm",
        abstract: "Train a class-conditional D3PM on 4-level MNIST with your functions, and sample digits.",
        discussion: """
            Examples:
              swift run -c release d3pm train --solutions --epochs 2
              swift run -c release d3pm train --max-steps 200          (your exercises must pass first)
              swift run -c release d3pm sample --checkpoint output/train/checkpoint.safetensors
              swift run d3pm probe --solutions --t 1,50,100,200         how q(x_t | x_0) corrupts a digit
            """,
        subcommands: [Train.self, Sample.self, Probe.self, Evaluate.self, TrainClassifier.self, RunChecks.self]
    )
}

/// Which functions drive training and sampling.
struct ImplementationOptions: ParsableArguments {
    @Flag(help: "Use the reference solutions instead of your exercises.")
    var solutions = false

    var implementation: Implementation { solutions ? .solutions : .student }

    /// Stops with the exercises still to pass when the student's functions are used.
    func requireExercisesPass(_ exercises: [Exercise] = Exercise.allCases) throws {
        guard implementation == .student else { return }
        guard let executable = Bundle.main.executableURL else { return }
        let runner = IsolatedRunner(executable: executable, implementation: .student, seed: CheckCatalog.defaultSeed, timeout: 20)
        let checks = CheckCatalog.all.filter { exercises.contains($0.exercise) }
        let report = GradeReport(implementation: .student, seed: CheckCatalog.defaultSeed, outcomes: try runner.run(checks))
        let pending = report.exercises.filter { $0.status != .passed }
        guard pending.isEmpty else {
            let list = pending.map { "\($0.id) (\($0.status.rawValue))" }.joined(separator: ", ")
            throw CommandFailure("""
                This command runs on your functions, and these exercises do not pass yet: \(list).
                Check them with `swift run grade all`, or use the reference solutions with --solutions.
                """)
        }
    }
}
