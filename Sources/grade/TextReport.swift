import Checks
import Foundation
import Grading

/// Renders grading results for a terminal.
final class TextReport {
    let color: Bool
    /// The check that first reported each crash: the same crash is told once.
    private var crashes: [String: String] = [:]

    init(color: Bool) { self.color = color }

    /// `text` as a terminal should show it when it comes from student code
    /// (what it printed, a crash's message, the compiler's echo of its
    /// lines): control characters other than a tab (escape sequences that
    /// move the cursor, erase a line or hide text; a carriage return that
    /// writes over a line) and the bidirectional controls that reorder what
    /// is shown are written out as `\u{...}`, so that nothing it prints can
    /// rewrite or hide the report's lines.
    static func visible(_ text: String) -> String {
        var shown = ""
        shown.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            let value = scalar.value
            let control = (value < 0x20 && scalar != "\t" && scalar != "\n") || (0x7F...0x9F).contains(value)
            let bidirectional = (0x202A...0x202E).contains(value) || (0x2066...0x2069).contains(value)
            if control || bidirectional {
                shown += "\\u{" + String(value, radix: 16, uppercase: true) + "}"
            } else {
                shown.unicodeScalars.append(scalar)
            }
        }
        return shown
    }

    private func visible(_ text: String) -> String { Self.visible(text) }

    private func paint(_ text: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }

    func symbol(_ status: CheckOutcome.Status) -> String {
        switch status {
        case .passed: paint("PASS", "32")
        case .failed: paint("FAIL", "31")
        case .notImplemented: paint("TODO", "33")
        case .crashed: paint("CRASH", "35")
        case .timedOut: paint("TIMEOUT", "35")
        case .doesNotCompile: paint("ERROR", "31")
        }
    }

    func printHeader(_ exercise: ExerciseInfo) {
        print("\n" + paint("Exercise \(exercise.number): \(exercise.title)", "1") + "  (\(exercise.file))")
    }

    func printOutcome(_ outcome: CheckOutcome) {
        let name = outcome.id.split(separator: ".").last.map(String.init) ?? outcome.id
        print(
            "  \(symbol(outcome.status).padding(toLength: color ? 16 : 7, withPad: " ", startingAt: 0)) \(name): \(outcome.title)"
        )
        switch outcome.status {
        case .passed, .doesNotCompile: break
        case .notImplemented:
            print("          not implemented yet: \(visible(outcome.message ?? "a stub"))")
        case .failed:
            if let expected = outcome.expected { print("          expected: \(visible(expected))") }
            if let actual = outcome.actual { print("          actual:   \(visible(actual))") }
            if let message = outcome.message { print("          error:    \(visible(message))") }
            if let hint = outcome.hint { print("          " + paint("hint:", "36") + "     \(visible(hint))") }
        case .crashed, .timedOut:
            let message = outcome.message ?? ""
            if outcome.status == .crashed, let first = crashes[message] {
                print("          crashed: the same crash as \(first), above")
                return
            }
            crashes[message] = name
            print("          \(outcome.status.rawValue): \(visible(message))")
            if let hint = outcome.hint { print("          " + paint("hint:", "36") + "     \(visible(hint))") }
        }
        if outcome.status != .passed, let output = outcome.output {
            print("          " + paint("your code printed:", "2"))
            for line in output.split(separator: "\n", omittingEmptySubsequences: false) {
                print("          | \(visible(String(line)))")
            }
        }
    }

    func printCompilerErrors(_ errors: String) {
        print("\n" + paint("Your exercises do not compile:", "31;1"))
        for line in errors.split(separator: "\n", omittingEmptySubsequences: false) {
            print("  \(visible(String(line)))")
        }
    }

    func statusText(_ status: ExerciseReport.Status) -> String {
        switch status {
        case .passed: paint("passed", "32")
        case .failed: paint("failed", "31")
        case .notImplemented: paint("not implemented", "33")
        case .crashed: paint("crashed", "35")
        case .timedOut: paint("timed out", "35")
        case .doesNotCompile: paint("does not compile", "31")
        }
    }

    func printSummary(_ report: GradeReport, single: Bool) {
        print("")
        for exercise in report.exercises {
            print(
                "  \(exercise.id)  \(String(format: "%3d", exercise.score)) / \(String(format: "%-3d", exercise.maxScore))  \(statusText(exercise.status))"
            )
        }
        print("  " + paint("score \(report.score) / \(report.maxScore)", "1"))
        if report.implementation == .solutions {
            let first = Catalog.exercises[0]
            print(
                report.allPassed
                    ? "The reference solutions pass every check."
                    : "The reference solutions do not pass: please report this.")
            print("Now your turn: open \(first.file) and check it with `swift run grade \(first.id)`.")
        } else if report.allPassed {
            print(
                single
                    ? "All checks pass. On to the next exercise!"
                    : "Every exercise passes. Train your model: see the README.")
        } else if let next = report.exercises.first(where: { $0.status != .passed }) {
            print("Next: \(next.file)  (swift run grade \(next.id); swift run grade hint \(next.id))")
        }
    }

    func printList(_ report: GradeReport) {
        let width = Catalog.exercises.map(\.title.count).max() ?? 26
        for exercise in report.exercises {
            guard let info = Catalog.exercise(exercise.exercise) else { continue }
            let passed = exercise.checks.filter { $0.status == .passed }.count
            let status: String =
                switch exercise.status {
                case .passed: paint("done", "32")
                case .failed: paint("\(passed)/\(exercise.checks.count) checks pass", "31")
                case .notImplemented: paint("to do", "33")
                default: statusText(exercise.status)
                }
            print(
                "\(info.id)  \(info.title.padding(toLength: width, withPad: " ", startingAt: 0))  \(info.functions.joined(separator: ", ").padding(toLength: 44, withPad: " ", startingAt: 0)) \(status)"
            )
        }
    }
}
