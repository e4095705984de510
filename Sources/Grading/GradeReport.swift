import Checks
import Foundation

/// The results of a grading run, in the form `grade --format json` writes.
///
/// Schema `d3pm-kit/grade-report@1`: the implementation graded, the seed,
/// the total score, and one entry per exercise with its checks (see
/// ``CheckOutcome`` for the fields of a check). Statuses are `passed`,
/// `failed`, `not implemented`, `crashed` and `timed out`.
public struct GradeReport: Codable, Sendable {
    public var schema = "d3pm-kit/grade-report@1"
    public var implementation: Implementation
    public var seed: UInt64
    public var score: Int
    public var maxScore: Int
    public var exercises: [ExerciseReport]

    public init(implementation: Implementation, seed: UInt64, outcomes: [CheckOutcome]) {
        self.implementation = implementation
        self.seed = seed
        let byExercise = Dictionary(grouping: outcomes, by: \.exercise)
        exercises = byExercise.keys.sorted().compactMap { number in
            Catalog.exercise(number).map { ExerciseReport(exercise: $0, checks: byExercise[number]!) }
        }
        score = outcomes.reduce(0) { $0 + $1.score }
        maxScore = outcomes.reduce(0) { $0 + $1.points }
    }

    /// The compiler's errors, when the exercises did not compile.
    public var compilerErrors: String? {
        exercises.flatMap(\.checks).first { $0.status == .doesNotCompile }?.message
    }

    /// Whether every check passed.
    public var allPassed: Bool { exercises.allSatisfy { $0.status == .passed } }
}

/// One exercise's results.
public struct ExerciseReport: Codable, Sendable {
    /// The summary of an exercise.
    public enum Status: String, Codable, Sendable {
        case passed
        case failed
        /// Some function of the exercise is still a stub.
        case notImplemented = "not implemented"
        /// Some check crashed (and none reached a stub or timed out).
        case crashed
        /// Some check timed out (and none reached a stub).
        case timedOut = "timed out"
        /// The exercises did not compile, so nothing ran.
        case doesNotCompile = "does not compile"
    }

    public var exercise: Int
    public var id: String
    public var title: String
    public var file: String
    public var status: Status
    public var score: Int
    public var maxScore: Int
    public var checks: [CheckOutcome]

    public init(exercise: ExerciseInfo, checks: [CheckOutcome]) {
        self.exercise = exercise.number
        id = exercise.id
        title = exercise.title
        file = exercise.file
        self.checks = checks
        score = checks.reduce(0) { $0 + $1.score }
        maxScore = checks.reduce(0) { $0 + $1.points }
        if checks.allSatisfy({ $0.status == .passed }) {
            status = .passed
        } else if checks.contains(where: { $0.status == .doesNotCompile }) {
            status = .doesNotCompile
        } else if checks.contains(where: { $0.status == .notImplemented }) {
            status = .notImplemented
        } else if checks.contains(where: { $0.status == .timedOut }) {
            status = .timedOut
        } else if checks.contains(where: { $0.status == .crashed }) {
            status = .crashed
        } else {
            status = .failed
        }
    }
}
