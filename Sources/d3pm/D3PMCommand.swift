import ArgumentParser
import Checks
import CommandSupport
import D3PM
import Diffusion
import Foundation
import Grading
import Plotting
import Student
import Tensors

#if canImport(Solutions)
    import Solutions
#endif

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
        subcommands: [Train.self, Sample.self, Probe.self, Evaluate.self, TrainClassifier.self]
    )

    /// Configures the tensor library from the environment, then runs the command.
    static func main() {
        do {
            Compute.configure(try ComputeConfiguration(environment: ProcessInfo.processInfo.environment))
        } catch {
            exit(withError: ValidationError("\(error)"))
        }
        Compute.keepFreedMemory()
        // Training and sampling call the exercises thousands of times: no debug plots.
        DebugPlots.disable()
        main(nil)
    }
}

/// Which functions drive training and sampling.
struct ImplementationOptions: ParsableArguments {
    @OptionGroup var option: SolutionsOption

    var implementation: Implementation { option.implementation }

    /// The functions themselves: this process trains and samples with them.
    var exercises: D3PMExercises.Type {
        switch implementation {
        case .student: return StudentExercises.self
        case .solutions:
            #if canImport(Solutions)
                return ReferenceSolutions.self
            #else
                // SolutionsOption refuses --solutions in the student edition.
                preconditionFailure("the student edition has no reference solutions")
            #endif
        }
    }

    /// What to blame when training goes wrong.
    var owner: String { implementation == .student ? "your functions" : "the reference solutions" }

    /// Stops with the exercises still to pass when the student's functions
    /// are used. The checks run through the grader's runner, as `grade` runs them.
    func requireExercisesPass(_ exercises: [ExerciseInfo] = Catalog.exercises) throws {
        guard implementation == .student else { return }
        let pending = try ExerciseGate.pending(exercises)
        guard pending.isEmpty else {
            let list = pending.map { "\($0.id) (\($0.status.rawValue))" }.joined(separator: ", ")
            throw CommandFailure(
                """
                This command runs on your functions, and these exercises do not pass yet: \(list).
                Check them with `swift run grade all`, or use the reference solutions with --solutions.
                """)
        }
    }
}

extension LossWeighting: ExpressibleByArgument {}
extension ModelArchitecture: ExpressibleByArgument {}
