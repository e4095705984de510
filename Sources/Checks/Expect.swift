import Foundation
import Tensors

/// A known mistake: what a buggy implementation would return, and the hint
/// that names the bug. A failing comparison that matches one reports its hint.
struct KnownBug {
    let values: [Double]
    let hint: String
}

/// Comparisons that throw a ``CheckFailure`` saying what was expected, what
/// came out and how to fix it.
enum Expect {
    static func shape(_ actual: [Int], _ expected: [Int], of what: String, hint: String? = nil) throws {
        guard actual == expected else {
            throw CheckFailure(
                expected: "\(what) of shape \(expected)", actual: "shape \(actual)",
                hint: hint ?? "Check the shape of each intermediate result; the doc comment gives the shape of the result.")
        }
    }

    static func that(_ condition: Bool, expected: @autoclosure () -> String, actual: @autoclosure () -> String, hint: String) throws {
        guard condition else { throw CheckFailure(expected: expected(), actual: actual(), hint: hint) }
    }

    /// Element-by-element comparison with |a - e| <= atol + rtol |e|.
    static func close(
        _ actual: [Double], _ expected: [Double], of what: String, atol: Double = 1e-5, rtol: Double = 1e-4,
        hint: String, knownBugs: [KnownBug] = []
    ) throws {
        guard actual.count == expected.count else {
            throw CheckFailure(expected: "\(expected.count) values for \(what)", actual: "\(actual.count) values", hint: hint)
        }
        func isClose(_ a: [Double], _ e: [Double]) -> Bool {
            zip(a, e).allSatisfy { abs($0 - $1) <= atol + rtol * abs($1) }
        }
        if isClose(actual, expected) { return }
        let worst = actual.indices.max { abs(actual[$0] - expected[$0]) < abs(actual[$1] - expected[$1]) || actual[$1].isNaN } ?? 0
        let bugHint = knownBugs.first { isClose(actual, $0.values) }?.hint
        throw CheckFailure(
            expected: "\(what) = \(format(expected)) (element \(worst): \(format(expected[worst])))",
            actual: "\(format(actual)) (element \(worst): \(format(actual[worst])))",
            hint: bugHint ?? hint)
    }

    /// Exact comparison of integer results, ignoring the positions in `skip`.
    static func equal(
        _ actual: [Int], _ expected: [Int], of what: String, skip: Set<Int> = [], hint: String, knownBugs: [([Int], String)] = []
    ) throws {
        guard actual.count == expected.count else {
            throw CheckFailure(expected: "\(expected.count) values for \(what)", actual: "\(actual.count) values", hint: hint)
        }
        let wrong = actual.indices.filter { !skip.contains($0) && actual[$0] != expected[$0] }
        guard let first = wrong.first else { return }
        let bugHint = knownBugs.first { bug in actual.indices.allSatisfy { skip.contains($0) || bug.0[$0] == actual[$0] } }?.1
        throw CheckFailure(
            expected: "\(what) = \(format(expected)); at position \(first): \(expected[first])",
            actual: "\(format(actual)); at position \(first): \(actual[first]) (\(wrong.count) of \(actual.count - skip.count) positions differ)",
            hint: bugHint ?? hint)
    }

    static func format(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value == value.rounded() && abs(value) < 1e6 { return String(Int(value)) }
        return String(format: "%.6g", value)
    }

    static func format(_ values: [Double]) -> String {
        let shown = values.prefix(8).map(format).joined(separator: ", ")
        return "[\(shown)\(values.count > 8 ? ", ... (\(values.count) values)" : "")]"
    }

    static func format(_ values: [Int]) -> String {
        let shown = values.prefix(12).map(String.init).joined(separator: ", ")
        return "[\(shown)\(values.count > 12 ? ", ... (\(values.count) values)" : "")]"
    }
}

extension Tensor {
    /// The elements as Doubles, for comparisons.
    var doubles: [Double] { scalars.map(Double.init) }
}
