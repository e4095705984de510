import Checks
import Foundation
import Grading
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

@Suite("Report formats")
struct ReportFormatTests {
    let report: GradeReport = {
        let checks = Catalog.exercises[0].checks
        var failed = CheckOutcome(check: checks[1], status: .failed)
        failed.expected = "a < b & c"
        failed.actual = "\"d\""
        failed.hint = "look"
        failed.output = "debug <print>"
        var crashed = CheckOutcome(check: checks[2], status: .crashed)
        crashed.message = "Fatal error: <oops>"
        return GradeReport(
            implementation: .student, seed: 3,
            outcomes: [
                CheckOutcome(check: checks[0], status: .passed), failed, crashed,
                CheckOutcome(check: Catalog.exercises[1].checks[0], status: .notImplemented),
            ])
    }()

    @Test func junitIsWellFormedWithFailuresAndErrorsCounted() throws {
        let xml = String(decoding: try ReportFormat.junit.render(report), as: UTF8.self)
        #expect(xml.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"))
        #expect(xml.contains("<testsuites name=\"d3pm-kit student\" tests=\"4\" failures=\"2\" errors=\"1\""))
        #expect(xml.contains("<testsuite name=\"exercise1\" tests=\"3\" failures=\"1\" errors=\"1\""))
        #expect(
            xml.contains("a &lt; b &amp; c") && xml.contains("&quot;d&quot;")
                && xml.contains("Fatal error: &lt;oops&gt;"))
        #expect(xml.contains("debug &lt;print&gt;"))
        #expect(xml.components(separatedBy: "<testcase ").count - 1 == 4)
        let parser = XMLParser(data: Data(xml.utf8))
        #expect(parser.parse(), "JUnit XML does not parse: \(parser.parserError.map { "\($0)" } ?? "")")
    }

    @Test func gradescopeHasScoresAndOneVisibleTestPerCheck() throws {
        let object =
            try JSONSerialization.jsonObject(with: try ReportFormat.gradescope.render(report)) as! [String: Any]
        #expect(object["score"] as? Double == Double(report.score))
        #expect(object["max_score"] as? Double == Double(report.maxScore))
        let tests = try #require(object["tests"] as? [[String: Any]])
        #expect(tests.count == 4)
        #expect(
            tests.allSatisfy {
                $0["visibility"] as? String == "visible" && $0["name"] is String && $0["max_score"] is Double
            })
        #expect(tests.map { $0["status"] as? String } == ["passed", "failed", "failed", "failed"])
        #expect((tests[1]["output"] as? String)?.contains("hint:") == true)
        #expect((tests[1]["output"] as? String)?.contains("your code printed:\ndebug <print>") == true)
    }

    @Test func jsonRoundTrips() throws {
        let decoded = try JSONDecoder().decode(GradeReport.self, from: try ReportFormat.json.render(report))
        #expect(decoded.score == report.score && decoded.exercises.map(\.status) == [.crashed, .notImplemented])
        #expect(decoded.exercises[0].checks[1].output == "debug <print>")
    }

    @Test func textNamesEveryCheckWithItsVerdict() throws {
        let text = String(decoding: try ReportFormat.text.render(report), as: UTF8.self)
        #expect(text.contains("exercise1.uniform-values: expected: a < b & c"))
        #expect(text.contains("crashed: Fatal error: <oops>"))
    }
}
