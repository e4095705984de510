import ArgumentParser
import Checks
import CommandSupport
import D3PM
import Foundation
import Grading
import Plotting
import Tensors

/// The grader: runs the checks of the practical against the student's
/// functions (or the reference solutions) and says what passed.
///
/// It never links or runs the code it grades: each check's calls run in a
/// runner process built from that code alone, and the verdict is reached here.
@main
struct Grade: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grade",
        abstract: "Check your D3PM exercises.",
        discussion: """
            Examples:
              swift run grade exercise1          check exercise 1 (Exercises/Exercise1+TransitionMatrices.swift)
              swift run grade all                check every exercise and show the score
              swift run grade all --solutions    check the reference solutions instead
              swift run grade hint exercise2     a hint for exercise 2
              swift run grade plot --t 1,50,200 --steps 200   your transition matrices as heatmaps
              swift run grade watch              re-grade whenever you save an exercise
            """,
        subcommands: [Run.self, List.self, Hint.self, Plot.self, Watch.self, Reset.self, Package.self, Batch.self],
        defaultSubcommand: Run.self
    )

    /// Configures the tensor library from the environment, then runs the command.
    static func main() {
        do {
            Compute.configure(try ComputeConfiguration(environment: ProcessInfo.processInfo.environment))
        } catch {
            exit(withError: ValidationError("\(error)"))
        }
        main(nil)
    }
}

/// What to grade: one exercise or all of them.
enum GradeTarget: ExpressibleByArgument, Equatable {
    case all
    case exercise(Int)

    init?(argument: String) {
        if argument.lowercased() == "all" {
            self = .all
            return
        }
        guard let exercise = Catalog.exercise(named: argument) else { return nil }
        self = .exercise(exercise.number)
    }

    static var allValueStrings: [String] { ["all"] + Catalog.exercises.map(\.id) }

    var exercises: [ExerciseInfo] {
        switch self {
        case .all: Catalog.exercises
        case .exercise(let number): Catalog.exercise(number).map { [$0] } ?? []
        }
    }
}

extension ReportFormat: ExpressibleByArgument {}

/// The options every grading command shares.
struct GradingOptions: ParsableArguments {
    @OptionGroup var implementation: SolutionsOption

    @Option(help: "The seed of the random test data. Every seed must pass.")
    var seed: UInt64 = Catalog.defaultSeed

    @Option(parsing: .unconditional, help: "The most seconds one check may take before it counts as an endless loop.")
    var timeout: Double = 10

    @Flag(help: "Grade with the runner already built (for installed graders and tests).")
    var noBuild = false

    @Option(help: .hidden)
    var runner: String?

    @Option(help: "Run the student's code as this unprivileged user (when grading as root, as course deployments do).")
    var runnerUser: String?

    func validate() throws {
        if runnerUser != nil && getuid() != 0 { throw ValidationError("--runner-user needs the grader to run as root") }
        guard timeout > 0 && timeout <= 3600 else {
            throw ValidationError("--timeout must be between 0 and 3600 seconds, got \(timeout)")
        }
    }

    /// Builds the runner and runs the checks of `exercises`, each in a runner process.
    /// A build that fails gives every check the status "does not compile".
    func grade(_ exercises: [ExerciseInfo], progress: (CheckOutcome) -> Void = { _ in }) throws -> (
        report: GradeReport, compilerErrors: String?
    ) {
        ProcessSweep.becomeSubreaper()
        let build = RunnerBuild.current
        let checks = exercises.flatMap(\.checks)
        if runner == nil && !noBuild {
            do {
                try build.build(implementation.implementation)
            } catch let failure as RunnerBuild.Failure {
                let outcomes = checks.map { check in
                    var outcome = CheckOutcome(check: check, status: .doesNotCompile)
                    outcome.message = failure.errors
                    return outcome
                }
                return (
                    GradeReport(implementation: implementation.implementation, seed: seed, outcomes: outcomes),
                    failure.errors
                )
            }
        }
        let grader = try makeGrader(build)
        let outcomes = try grader.grade(checks, progress: progress)
        return (GradeReport(implementation: implementation.implementation, seed: seed, outcomes: outcomes), nil)
    }

    /// The grader for one-off calls (pictures), after building the runner.
    func grader() throws -> Grader {
        let build = RunnerBuild.current
        if runner == nil && !noBuild { try build.build(implementation.implementation) }
        return try makeGrader(build)
    }

    /// The grader of the built (or given) runner, as `--runner-user` if given.
    private func makeGrader(_ build: RunnerBuild) throws -> Grader {
        let executable = runner.map(URL.init(fileURLWithPath:)) ?? build.runner(implementation.implementation)
        return try Grader(runner: executable, seed: seed, timeout: timeout, user: runnerUser)
    }
}

extension Grade {
    /// Grades one exercise or all of them.
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Check one exercise (exercise1 ... exercise7) or all of them (the default command)."
        )

        @Argument(help: "exercise1 ... exercise7, or all.")
        var target: GradeTarget = .all

        @OptionGroup var options: GradingOptions

        @Option(help: "text, json, junit or gradescope.")
        var format: ReportFormat = .text

        @Option(help: "Write the report to this file (atomically) instead of the standard output.")
        var output: String?

        @Option(help: "The folder for the figures (solutions' figures go to its solutions/ subfolder).")
        var figures: String = "output/figures"

        @Flag(help: "Do not draw figures.")
        var noFigures = false

        func run() throws {
            if format == .text && output == nil && !noFigures { try OutputFolder.prepare(figures) }
            let printer = TextReport(color: isatty(1) != 0)
            let live = format == .text && output == nil
            let implementation = options.implementation.implementation
            if live {
                print(
                    "Grading \(implementation == .student ? "your exercises (Exercises/)" : "the reference solutions (Solutions/)"), seed \(options.seed)"
                )
            }
            var current: Int?
            let (report, compilerErrors) = try options.grade(target.exercises) { outcome in
                guard live else { return }
                if current != outcome.exercise {
                    current = outcome.exercise
                    printer.printHeader(Catalog.exercise(outcome.exercise)!)
                }
                printer.printOutcome(outcome)
            }
            if format == .text && output == nil {
                if let compilerErrors { printer.printCompilerErrors(compilerErrors) }
                printer.printSummary(report, single: target != .all)
                if !noFigures { drawFigures(report) }
            } else {
                let data = try format.render(report)
                if let output {
                    let url = URL(fileURLWithPath: output)
                    try FileManager.default.createDirectory(
                        at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                    try data.write(to: url, options: .atomic)
                } else {
                    FileHandle.standardOutput.write(data)
                    if data.last != UInt8(ascii: "\n") { print("") }
                }
            }
            if !report.allPassed { throw ExitCode.failure }
        }

        /// Pictures of the matrices of each matrix exercise that passes.
        func drawFigures(_ report: GradeReport) {
            let passed = Set(report.exercises.filter { $0.status == .passed }.map(\.exercise))
            guard !passed.isEmpty else { return }
            do {
                _ = try FigureRenderer()
            } catch {
                print("No figures: \(error)")
                return
            }
            for transition in Corruption.allCases
            where passed.contains(transition.exercise.number) && (transition == .uniform || passed.contains(1)) {
                var pictures = TransitionFigures(transition: transition)
                if transition == .absorbing { pictures.schedule = .inverse }
                if transition == .gaussian { (pictures.betaStart, pictures.betaEnd) = (0.02, 1) }
                do {
                    pictures.draw(
                        with: try options.grader(), implementation: options.implementation.implementation,
                        folder: figures)
                } catch {
                    print("No figures: \(error)")
                }
            }
        }
    }

    /// Lists the exercises with their status.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the exercises and how far you are.")

        @OptionGroup var options: GradingOptions

        func run() throws {
            let (report, _) = try options.grade(Catalog.exercises)
            TextReport(color: isatty(1) != 0).printList(report)
        }
    }

    /// A hint for one exercise.
    struct Hint: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A hint for one exercise, without the answer.")

        @Argument(help: "exercise1 ... exercise7.")
        var exercise: String

        func run() throws {
            guard let exercise = Catalog.exercise(named: exercise) else {
                throw ValidationError(
                    "'\(exercise)' is not an exercise: use exercise1 ... exercise\(Catalog.exercises.count)")
            }
            print("\(exercise.id): \(exercise.title) (\(exercise.file))")
            print("Functions: \(exercise.functions.joined(separator: ", "))")
            print("Hint: \(exercise.hint)")
            print("Mistakes the checks recognise and name:")
            for mistake in exercise.knownMistakes { print("  - \(mistake)") }
        }
    }
}
