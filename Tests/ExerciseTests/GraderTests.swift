import Checks
import Foundation
import Grading
import Testing

/// The `grade` executable, run end to end as a student or CI runs it.
@Suite("The grade command")
struct GraderTests {
    @Test func solutionsScoreFullMarksInJSON() throws {
        let run = try GradeCommand.run(["all", "--solutions", "--format", "json"])
        #expect(run.status == 0)
        let report = try JSONDecoder().decode(GradeReport.self, from: run.output)
        #expect(report.schema == "d3pm-kit/grade-report@1")
        #expect(report.implementation == .solutions)
        #expect(report.exercises.count == Catalog.exercises.count)
        #expect(report.score == report.maxScore && report.maxScore == Catalog.checks.reduce(0) { $0 + $1.points })
    }

    @Test func sameSeedGivesTheSameReport() throws {
        func checks(_ seed: String) throws -> [CheckOutcome] {
            let run = try GradeCommand.run(["exercise4", "--solutions", "--format", "json", "--seed", seed])
            return try JSONDecoder().decode(GradeReport.self, from: run.output).exercises.flatMap(\.checks).map {
                var c = $0
                c.seconds = nil
                return c
            }
        }
        #expect(try checks("7") == checks("7"))
    }

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

    @Test func junitAndGradescopeFilesAreWrittenWhereAsked() throws {
        let folder = try TestConfiguration.temporaryFolder("reports")
        defer { try? FileManager.default.removeItem(at: folder) }
        let junit = folder.appendingPathComponent("junit.xml"),
            gradescope = folder.appendingPathComponent("results.json")
        #expect(
            try GradeCommand.run(["exercise1", "--solutions", "--format", "junit", "--output", junit.path]).status == 0)
        #expect(
            try GradeCommand.run(["exercise1", "--solutions", "--format", "gradescope", "--output", gradescope.path])
                .status == 0)
        #expect(
            try String(contentsOf: junit, encoding: .utf8).contains(
                "<testsuite name=\"exercise1\" tests=\"6\" failures=\"0\" errors=\"0\""))
        let results = try JSONSerialization.jsonObject(with: Data(contentsOf: gradescope)) as? [String: Any]
        #expect(results?["score"] as? Double == 9 && results?["max_score"] as? Double == 9)
    }
}
