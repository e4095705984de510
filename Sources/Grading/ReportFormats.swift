import Checks
import Foundation

/// The grading report in the forms other tools read.
public enum ReportFormat: String, CaseIterable, Sendable {
    /// For people: each check, and for one that did not pass what was
    /// expected, what came out, a hint and what the code printed.
    case text
    /// ``GradeReport`` as JSON (schema `d3pm-kit/grade-report@1`).
    case json
    /// JUnit XML: one test suite per exercise, one test case per check; a
    /// failed or not-implemented check is a `<failure>`, a crash or a timeout an `<error>`.
    case junit
    /// Gradescope's `results.json`: score, max_score and one test per check
    /// with its name, score, status and output, all visible.
    case gradescope

    /// The report rendered in this format.
    public func render(_ report: GradeReport) throws -> Data {
        switch self {
        case .text:
            var text =
                "D3PM Kit, \(report.implementation.rawValue), seed \(report.seed): \(report.score) / \(report.maxScore)\n"
            for exercise in report.exercises {
                text +=
                    "\n\(exercise.id) \(exercise.title): \(exercise.score) / \(exercise.maxScore), \(exercise.status.rawValue)\n"
                for check in exercise.checks {
                    text += "  \(check.id): " + describe(check).replacingOccurrences(of: "\n", with: "\n    ") + "\n"
                }
            }
            return Data(text.utf8)
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            return try encoder.encode(report)
        case .junit:
            return Data(JUnitXML.render(report).utf8)
        case .gradescope:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            return try encoder.encode(GradescopeResults(report))
        }
    }
}

/// The explanation of a check's outcome, in plain text.
func describe(_ outcome: CheckOutcome) -> String {
    var lines: [String] = []
    switch outcome.status {
    case .passed: lines.append("passed")
    case .notImplemented: lines.append("not implemented yet: \(outcome.message ?? "")")
    case .crashed: lines.append("crashed: \(outcome.message ?? "")")
    case .timedOut: lines.append("timed out: \(outcome.message ?? "")")
    case .doesNotCompile: lines.append("does not compile:\n\(outcome.message ?? "")")
    case .failed:
        if let expected = outcome.expected { lines.append("expected: \(expected)") }
        if let actual = outcome.actual { lines.append("actual:   \(actual)") }
        if let message = outcome.message { lines.append("error:    \(message)") }
    }
    if outcome.status != .passed, let hint = outcome.hint { lines.append("hint:     \(hint)") }
    if outcome.status != .passed, let output = outcome.output { lines.append("your code printed:\n\(output)") }
    return lines.joined(separator: "\n")
}

enum JUnitXML {
    static func escape(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            case "\n", "\t": result.unicodeScalars.append(scalar)
            default:
                // XML 1.0 allows no other control characters.
                if scalar.value >= 0x20 { result.unicodeScalars.append(scalar) }
            }
        }
        return result
    }

    static func render(_ report: GradeReport) -> String {
        let all = report.exercises.flatMap(\.checks)
        func count(_ statuses: Set<CheckOutcome.Status>, in checks: [CheckOutcome]) -> Int {
            checks.filter { statuses.contains($0.status) }.count
        }
        let failures: Set<CheckOutcome.Status> = [.failed, .notImplemented],
            errors: Set<CheckOutcome.Status> = [.crashed, .timedOut, .doesNotCompile]
        let total = all.reduce(0) { $0 + ($1.seconds ?? 0) }
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml +=
            "<testsuites name=\"d3pm-kit \(report.implementation.rawValue)\" tests=\"\(all.count)\" failures=\"\(count(failures, in: all))\" errors=\"\(count(errors, in: all))\" time=\"\(String(format: "%.3f", total))\">\n"
        for exercise in report.exercises {
            let time = exercise.checks.reduce(0) { $0 + ($1.seconds ?? 0) }
            xml +=
                "  <testsuite name=\"\(exercise.id)\" tests=\"\(exercise.checks.count)\" failures=\"\(count(failures, in: exercise.checks))\" errors=\"\(count(errors, in: exercise.checks))\" skipped=\"0\" time=\"\(String(format: "%.3f", time))\">\n"
            xml +=
                "    <properties><property name=\"score\" value=\"\(exercise.score)\"/><property name=\"maxScore\" value=\"\(exercise.maxScore)\"/><property name=\"seed\" value=\"\(report.seed)\"/></properties>\n"
            for check in exercise.checks {
                let name = check.id.split(separator: ".").last.map(String.init) ?? check.id
                xml +=
                    "    <testcase classname=\"\(exercise.id)\" name=\"\(escape(name))\" time=\"\(String(format: "%.3f", check.seconds ?? 0))\""
                switch check.status {
                case .passed:
                    xml += "/>\n"
                case .failed, .notImplemented:
                    let message =
                        check.status == .failed
                        ? (check.expected.map { "expected \($0)" } ?? "failed") : "not implemented"
                    xml +=
                        ">\n      <failure message=\"\(escape(message))\" type=\"\(check.status.rawValue)\">\(escape(describe(check)))</failure>\n    </testcase>\n"
                case .crashed, .timedOut, .doesNotCompile:
                    xml +=
                        ">\n      <error message=\"\(escape(check.message ?? check.status.rawValue))\" type=\"\(check.status.rawValue)\">\(escape(describe(check)))</error>\n    </testcase>\n"
                }
            }
            xml += "  </testsuite>\n"
        }
        return xml + "</testsuites>\n"
    }
}

/// Gradescope's autograder results (https://gradescope-autograders.readthedocs.io, "Output format").
struct GradescopeResults: Encodable {
    struct Test: Encodable {
        let name: String
        let number: String
        let score: Double
        let max_score: Double
        let status: String
        let output: String
        let visibility = "visible"
    }

    let score: Double
    let max_score: Double
    let output: String
    let visibility = "visible"
    let stdout_visibility = "visible"
    let tests: [Test]

    init(_ report: GradeReport) {
        score = Double(report.score)
        max_score = Double(report.maxScore)
        output =
            "D3PM Kit, \(report.implementation.rawValue), seed \(report.seed): \(report.score) / \(report.maxScore)"
            + (report.compilerErrors.map { "\n\nYour exercises do not compile:\n\($0)" } ?? "")
        tests = report.exercises.flatMap { exercise in
            exercise.checks.enumerated().map { index, check in
                Test(
                    name: "\(check.id): \(check.title)", number: "\(exercise.exercise).\(index + 1)",
                    score: Double(check.score), max_score: Double(check.points),
                    status: check.status == .passed ? "passed" : "failed", output: describe(check))
            }
        }
    }
}
