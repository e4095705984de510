import Checks
import Foundation
import Grading
import KitTestSupport
import Testing

/// Every check of the grader, run by `swift test` against the student's
/// exercises (or the solutions with `D3PM_SOLUTIONS=1`), exactly as `grade`
/// runs them: one `grade all --format json` run, whose runner processes make
/// the calls, and one test per check reading its verdict.
@Suite("Exercise checks")
struct ExerciseCheckTests {
    /// The report of one grading run, shared by the tests.
    static let report: Result<GradeReport, Error> = Result {
        var arguments = ["all", "--format", "json", "--no-figures"]
        if TestConfiguration.implementation == .solutions { arguments.append("--solutions") }
        let run = try GradeCommand.run(arguments)
        return try JSONDecoder().decode(GradeReport.self, from: run.output)
    }

    @Test(arguments: Catalog.checks.map(\.id))
    func check(_ id: String) throws {
        let report = try Self.report.get()
        let outcome = try #require(
            report.exercises.flatMap(\.checks).first { $0.id == id }, "\(id) is missing from the report")
        let implementation = TestConfiguration.implementation.rawValue
        switch outcome.status {
        case .passed: break
        case .failed:
            Issue.record(
                """
                \(id) failed for \(implementation)
                  expected: \(outcome.expected ?? "-")
                  actual:   \(outcome.actual ?? outcome.message ?? "-")
                  hint:     \(outcome.hint ?? "-")
                """)
        case .notImplemented:
            Issue.record("\(id): not implemented yet (\(outcome.message ?? ""))")
        case .crashed, .timedOut, .doesNotCompile:
            Issue.record("\(id) \(outcome.status.rawValue) for \(implementation): \(outcome.message ?? "")")
        }
    }
}
