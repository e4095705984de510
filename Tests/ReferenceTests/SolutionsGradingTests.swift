import Checks
import Foundation
import Grading
import KitTestSupport
import Testing

/// The `grade` executable on the reference solutions: full marks in every report format.
@Suite("Grading the solutions")
struct SolutionsGradingTests {
    @Test func solutionsScoreFullMarksInJSON() throws {
        let run = try GradeCommand.run(["all", "--solutions", "--format", "json"])
        #expect(run.status == 0)
        let report = try JSONDecoder().decode(GradeReport.self, from: run.output)
        #expect(report.schema == "d3pm-kit/grade-report@1")
        #expect(report.implementation == .solutions)
        #expect(report.exercises.count == Catalog.exercises.count)
        let missed = report.exercises.flatMap(\.checks).filter { $0.status != .passed }
        #expect(
            report.score == report.maxScore && report.maxScore == Catalog.checks.reduce(0) { $0 + $1.points },
            "not passed: \(missed.map { "\($0.id) \($0.status.rawValue): \($0.message ?? $0.actual ?? "")" })")
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
        let first = try checks("7"), second = try checks("7")
        #expect(first == second, "differing: \(zip(first, second).filter { $0 != $1 })")
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
