import Checks
import D3PM
import Foundation
import Testing
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The runner survives what student code does to a process: a stub's exit,
/// a trap, an endless loop. A shell script stands in for the child here, so
/// each behaviour is exact and quick.
@Suite("Checks run in child processes")
struct IsolatedRunnerTests {
    static let checks = Array(CheckCatalog.checks(for: .exercise1).prefix(4))

    /// A child that passes every check except the second, where it behaves as `behaviour`.
    func script(_ behaviour: String) throws -> URL {
        let passLine = #"printf 'D3PM-OUTCOME {"id":"%s","exercise":1,"title":"t","points":1,"status":"passed"}\n' "$id""#
        let text = """
            #!/bin/sh
            ids=$(echo "$@" | sed 's/.*--ids //')
            for id in $(echo "$ids" | tr ',' ' '); do
              if [ "$id" = "\(Self.checks[1].id)" ]; then \(behaviour); fi
              \(passLine)
            done
            """
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("d3pm-child-\(UUID().uuidString).sh")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func run(_ behaviour: String, timeout: Double = 20) throws -> [CheckOutcome] {
        let url = try script(behaviour)
        defer { try? FileManager.default.removeItem(at: url) }
        // The shell runs the script, so no freshly written file is executed (which can fail with
        // "text file busy" while another test's child still holds it open).
        var runner = IsolatedRunner(executable: URL(fileURLWithPath: "/bin/sh"), implementation: .student, seed: 1, timeout: timeout)
        runner.leadingArguments = [url.path]
        return try runner.run(Self.checks)
    }

    @Test func aStubIsReportedAsNotImplementedAndTheRestStillRun() throws {
        let outcomes = try run("echo '\(NotImplemented.marker) cumulativeQ(_:) (Exercises/E.swift:9)' >&2; exit \(NotImplemented.exitCode)")
        #expect(outcomes.map(\.status) == [.passed, .notImplemented, .passed, .passed])
        #expect(outcomes[1].message == "cumulativeQ(_:) (Exercises/E.swift:9)")
    }

    @Test func aTrapIsReportedAsACrashWithItsMessage() throws {
        let outcomes = try run("echo 'Tensors/X.swift:3: Fatal error: index 9 is out of range' >&2; kill -ILL $$")
        #expect(outcomes.map(\.status) == [.passed, .crashed, .passed, .passed])
        #expect(outcomes[1].message?.contains("Fatal error: index 9 is out of range") == true)
        #expect(outcomes[1].hint != nil)
    }

    @Test func anEndlessLoopTimesOut() throws {
        let outcomes = try run("while true; do :; done", timeout: 1)
        #expect(outcomes.map(\.status) == [.passed, .timedOut, .passed, .passed])
    }

    @Test func theStudentsFrameIsPickedFromABacktrace() {
        let line = "1 static StudentExercises.makeUniformQOnestep(numClasses:betas:) + 830 in grade at /home/me/kit/Exercises/Exercise1+TransitionMatrices.swift:44:17"
        #expect(ChildRunStudentFrame.format(line) == "Exercises/Exercise1+TransitionMatrices.swift:44:17 (makeUniformQOnestep(numClasses:betas:))")
    }
}

@Suite("Report formats")
struct ReportFormatTests {
    let report: GradeReport = {
        var failed = CheckOutcome(check: CheckCatalog.all[1], status: .failed)
        failed.expected = "a < b & c"
        failed.actual = "\"d\""
        failed.hint = "look"
        var crashed = CheckOutcome(check: CheckCatalog.all[2], status: .crashed)
        crashed.message = "Fatal error: <oops>"
        return GradeReport(implementation: .student, seed: 3, outcomes: [
            CheckOutcome(check: CheckCatalog.all[0], status: .passed), failed, crashed,
            CheckOutcome(check: CheckCatalog.checks(for: .exercise2)[0], status: .notImplemented),
        ])
    }()

    @Test func junitIsWellFormedWithFailuresAndErrorsCounted() throws {
        let xml = String(decoding: try ReportFormat.junit.render(report), as: UTF8.self)
        #expect(xml.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"))
        #expect(xml.contains("<testsuites name=\"d3pm-kit student\" tests=\"4\" failures=\"2\" errors=\"1\""))
        #expect(xml.contains("<testsuite name=\"exercise1\" tests=\"3\" failures=\"1\" errors=\"1\""))
        #expect(xml.contains("a &lt; b &amp; c") && xml.contains("&quot;d&quot;") && xml.contains("Fatal error: &lt;oops&gt;"))
        #expect(xml.components(separatedBy: "<testcase ").count - 1 == 4)
        let parser = XMLParser(data: Data(xml.utf8))
        #expect(parser.parse(), "JUnit XML does not parse: \(parser.parserError.map { "\($0)" } ?? "")")
    }

    @Test func gradescopeHasScoresAndOneVisibleTestPerCheck() throws {
        let object = try JSONSerialization.jsonObject(with: try ReportFormat.gradescope.render(report)) as! [String: Any]
        #expect(object["score"] as? Double == Double(report.score))
        #expect(object["max_score"] as? Double == Double(report.maxScore))
        let tests = try #require(object["tests"] as? [[String: Any]])
        #expect(tests.count == 4)
        #expect(tests.allSatisfy { $0["visibility"] as? String == "visible" && $0["name"] is String && $0["max_score"] is Double })
        #expect(tests.map { $0["status"] as? String } == ["passed", "failed", "failed", "failed"])
        #expect((tests[1]["output"] as? String)?.contains("hint:") == true)
    }

    @Test func jsonRoundTrips() throws {
        let decoded = try JSONDecoder().decode(GradeReport.self, from: try ReportFormat.json.render(report))
        #expect(decoded.score == report.score && decoded.exercises.map(\.status) == [.crashed, .notImplemented])
    }
}
