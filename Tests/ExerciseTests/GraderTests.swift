import Checks
import Foundation
import Grading
import KitTestSupport
import Testing

/// The `grade` executable, run end to end as a student or CI runs it.
@Suite("The grade command")
struct GraderTests {

    @Test func badArgumentsAreRejectedWithAMessage() throws {
        #expect(try GradeCommand.run(["exercise9"]).status != 0)
        #expect(try GradeCommand.run(["all", "--timeout", "-1"]).status != 0)
        #expect(try GradeCommand.run(["all", "--format", "yaml"]).status != 0)
    }

    /// The maintainer's check that the shipped stubs are stubs: every
    /// exercise reports "not implemented" and the grader exits non-zero.
    @Test(.enabled(if: TestConfiguration.checksStubs, "set D3PM_CHECK_STUBS=1 to check the shipped stubs"))
    func shippedStubsAreReportedAsNotImplemented() throws {
        let run = try GradeCommand.run(["all", "--format", "json"])
        #expect(run.status != 0)
        let report = try JSONDecoder().decode(GradeReport.self, from: run.output)
        #expect(report.exercises.map(\.status) == Array(repeating: .notImplemented, count: Catalog.exercises.count))
        #expect(report.exercises.flatMap(\.checks).allSatisfy { $0.status == .notImplemented })
        #expect(report.score == 0)
    }

    /// `grade reset` restores from copies of the stubs; they must be the shipped files.
    @Test(.enabled(if: TestConfiguration.checksStubs, "set D3PM_CHECK_STUBS=1 to check the shipped stubs"))
    func resetCopiesMatchTheShippedStubs() throws {
        let root = TestConfiguration.packageRoot
        for exercise in Catalog.exercises {
            let name = URL(fileURLWithPath: exercise.file).lastPathComponent
            let shipped = try Data(contentsOf: root.appendingPathComponent(exercise.file))
            let copy = try Data(contentsOf: root.appendingPathComponent("Sources/grade/Stubs/\(name).stub"))
            #expect(shipped == copy, "Sources/grade/Stubs/\(name).stub differs from \(exercise.file)")
        }
    }

}
