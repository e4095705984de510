import ArgumentParser
import Checks
import CommandSupport
import D3PM
import Foundation

/// The grader: runs the checks of the practical against the student's
/// functions (or the reference solutions) and says what passed.
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
        subcommands: [Run.self, List.self, Hint.self, Plot.self, Watch.self, Reset.self, RunChecks.self],
        defaultSubcommand: Run.self
    )
}

/// What to grade: one exercise or all of them.
enum GradeTarget: ExpressibleByArgument, Equatable {
    case all
    case exercise(Exercise)

    init?(argument: String) {
        if argument.lowercased() == "all" { self = .all; return }
        guard let exercise = Exercise(name: argument) else { return nil }
        self = .exercise(exercise)
    }

    static var allValueStrings: [String] { ["all"] + Exercise.allCases.map(\.id) }

    var exercises: [Exercise] {
        switch self {
        case .all: Exercise.allCases
        case .exercise(let exercise): [exercise]
        }
    }
}

/// The output formats of a grading run.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    /// For people: each check, and for a failure what was expected, what came out and a hint.
    case text
    /// For programs: a ``GradeReport`` (schema `d3pm-kit/grade-report@1`).
    case json
    /// JUnit XML, for CI systems.
    case junit
    /// Gradescope's results.json.
    case gradescope

    var report: ReportFormat? { ReportFormat(rawValue: rawValue) }
}

/// The options every grading command shares.
struct GradingOptions: ParsableArguments {
    @Flag(help: "Grade the reference solutions (Solutions/) instead of your exercises.")
    var solutions = false

    @Option(help: "The seed of the random test data. Every seed must pass.")
    var seed: UInt64 = CheckCatalog.defaultSeed

    @Option(help: "The most seconds one check may take before it counts as an endless loop.")
    var timeout: Double = 10

    var implementation: Implementation { solutions ? .solutions : .student }

    func validate() throws {
        guard timeout > 0 else { throw ValidationError("--timeout must be a positive number of seconds, got \(timeout)") }
    }

    /// Runs the checks of `exercises` in child processes.
    func grade(_ exercises: [Exercise], progress: (CheckOutcome) -> Void = { _ in }) throws -> GradeReport {
        guard let executable = Bundle.main.executableURL else { throw ValidationError("cannot find the grade executable") }
        let runner = IsolatedRunner(executable: executable, implementation: implementation, seed: seed, timeout: timeout)
        let checks = exercises.flatMap(CheckCatalog.checks(for:))
        let outcomes = try runner.run(checks, progress: progress)
        return GradeReport(implementation: implementation, seed: seed, outcomes: outcomes)
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
        var format: OutputFormat = .text

        @Option(help: "Write the report to this file (atomically) instead of the standard output (json, junit, gradescope).")
        var output: String?

        @Option(help: "The folder for the figures (exercise 1's heatmaps and entropy curve).")
        var figures: String = "output/figures"

        @Flag(help: "Do not draw figures.")
        var noFigures = false

        func validate() throws {
            if output != nil && format == .text { throw ValidationError("--output writes a json, junit or gradescope report: add --format") }
        }

        func run() throws {
            let printer = TextReport(color: format == .text && isatty(1) != 0)
            if format == .text {
                print("Grading \(options.implementation == .student ? "your exercises (Exercises/)" : "the reference solutions (Solutions/)"), seed \(options.seed)")
            }
            var current: Int?
            let report = try options.grade(target.exercises) { outcome in
                guard format == .text else { return }
                if current != outcome.exercise {
                    current = outcome.exercise
                    printer.printHeader(Exercise(rawValue: outcome.exercise)!)
                }
                printer.printOutcome(outcome)
            }
            switch format {
            case .text:
                printer.printSummary(report, single: target != .all)
                // Pictures of the matrices of each matrix exercise that passes.
                for transition in Corruption.allCases where !noFigures && target.exercises.contains(transition.exercise)
                    && report.exercises.first(where: { $0.exercise == transition.exercise.rawValue })?.status == .passed {
                    var pictures = TransitionFigures(transition: transition)
                    if transition == .absorbing { pictures.schedule = .inverse }
                    pictures.draw(implementation: options.implementation, folder: figures)
                }
            case .json, .junit, .gradescope:
                let data = try format.report!.render(report)
                if let output {
                    let url = URL(fileURLWithPath: output)
                    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                    try data.write(to: url, options: .atomic)
                } else {
                    FileHandle.standardOutput.write(data)
                    if data.last != UInt8(ascii: "\n") { print("") }
                }
            }
            if !report.allPassed { throw ExitCode.failure }
        }
    }

    /// Lists the exercises with their status.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the exercises and how far you are.")

        @OptionGroup var options: GradingOptions

        func run() throws {
            let report = try options.grade(Exercise.allCases)
            TextReport(color: isatty(1) != 0).printList(report)
        }
    }

    /// A hint for one exercise.
    struct Hint: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A hint for one exercise, without the answer.")

        @Argument(help: "exercise1 ... exercise7.")
        var exercise: String

        func run() throws {
            guard let exercise = Exercise(name: exercise) else {
                throw ValidationError("'\(exercise)' is not an exercise: use exercise1 ... exercise7")
            }
            print("\(exercise.id): \(exercise.title) (\(exercise.file))")
            print("Functions: \(exercise.functions.joined(separator: ", "))")
            print("Hint: \(exercise.hint)")
        }
    }
}
