import Foundation
import Tensors

/// A known mistake: what an implementation with that mistake would return,
/// and the hint that names it. A failing comparison whose every entry
/// matches the mistake's value reports the mistake's hint (every entry, not
/// only the wrong ones: another mistake that happens to agree with this one
/// where both are wrong must not be named as this one).
struct KnownBug {
    let values: [Double]
    let hint: String
}

/// Names an entry of a compared tensor: `[t = 3, x0 = 1, x_t = 2]` rather than `element 48`.
struct EntryNames {
    let describe: (Int) -> String

    /// Multi-indices of a row-major tensor of `shape`, with optional axis names.
    static func indices(_ shape: [Int], axes: [String]? = nil) -> EntryNames {
        EntryNames { flat in
            var rest = flat, index = [Int](repeating: 0, count: shape.count)
            for axis in shape.indices.reversed() where shape[axis] > 0 {
                index[axis] = rest % shape[axis]
                rest /= shape[axis]
            }
            guard let axes, axes.count == shape.count else {
                return "[\(index.map(String.init).joined(separator: ", "))]"
            }
            return "[" + zip(axes, index).map { "\($0) = \($1)" }.joined(separator: ", ") + "]"
        }
    }

    /// `[T, K, K]` stacks of matrices, step t at index t - 1: `[t = 2, row 0, column 3]`.
    static func matrices(_ shape: [Int]) -> EntryNames {
        EntryNames { flat in
            let k = shape.last ?? 1, rows = shape.count >= 2 ? shape[shape.count - 2] : 1
            return "[t = \(flat / (k * rows) + 1), row \((flat / k) % rows), column \(flat % k)]"
        }
    }

    /// `[B, ..., K]` per-pixel distributions with a time step per batch element:
    /// `[b = 1 (t = 3), pixel [0, 2], class 1]`.
    static func pixels(_ shape: [Int], t: IntTensor, classAxis: Bool = true) -> EntryNames {
        EntryNames { flat in
            let k = classAxis ? (shape.last ?? 1) : 1
            let pixelShape = Array(shape.dropFirst().dropLast(classAxis ? 1 : 0))
            let perBatch = pixelShape.reduce(1, *) * k
            let b = flat / perBatch, within = (flat % perBatch) / k
            let pixel = EntryNames.indices(pixelShape).describe(within)
            let step = b < t.count ? " (t = \(t.scalars[b]))" : ""
            return "[b = \(b)\(step), pixel \(pixel)" + (classAxis ? ", class \(flat % k)]" : "]")
        }
    }
}

/// Comparisons that throw a ``CheckFailure`` saying what was expected, what
/// came out and how to fix it.
enum Expect {
    static func shape(_ actual: [Int], _ expected: [Int], of what: String, hint: String? = nil) throws {
        guard actual == expected else {
            throw CheckFailure(
                expected: "\(what) of shape \(expected)", actual: "shape \(actual)",
                hint: hint
                    ?? "Check the shape of each intermediate result; the doc comment gives the shape of the result.")
        }
    }

    static func that(
        _ condition: Bool, expected: @autoclosure () -> String, actual: @autoclosure () -> String, hint: String
    ) throws {
        guard condition else { throw CheckFailure(expected: expected(), actual: actual(), hint: hint) }
    }

    /// Fails when a sample is not a class in `0..<k`, naming the first and
    /// how many: a frequency test counts only classes, so samples outside
    /// them would otherwise leave nothing to test.
    static func classes(_ samples: [Int], below k: Int, of what: String) throws {
        guard let first = samples.firstIndex(where: { !(0..<k).contains($0) }) else { return }
        let count = samples.filter { !(0..<k).contains($0) }.count
        throw CheckFailure(
            expected: "every sample of \(what) a class in 0..<\(k)",
            actual: "\(count) of \(samples.count) outside it, the first \(samples[first]) at [\(first)]",
            hint: "A sample is the index of a class: argmax over the last axis, K = \(k) classes.")
    }

    /// Fails on the first NaN or infinity, naming it and where it is.
    static func finite(_ values: [Double], of what: String, names: EntryNames, hint: String) throws {
        guard let bad = values.firstIndex(where: { !$0.isFinite }) else { return }
        let count = values.filter { !$0.isFinite }.count
        throw CheckFailure(
            expected: "finite values for \(what)",
            actual:
                "\(format(values[bad])) at \(names.describe(bad)) (\(count) of \(values.count) entries are not finite)",
            hint: hint)
    }

    /// Entry-by-entry comparison with |a - e| <= atol + rtol |e|.
    static func close(
        _ actual: [Double], _ expected: [Double], of what: String, names: EntryNames, atol: Double = 1e-5,
        rtol: Double = 1e-4,
        hint: String, knownBugs: [KnownBug] = []
    ) throws {
        guard actual.count == expected.count else {
            throw CheckFailure(
                expected: "\(expected.count) values for \(what)", actual: "\(actual.count) values", hint: hint)
        }
        func isClose(_ a: Double, _ e: Double) -> Bool { abs(a - e) <= atol + rtol * abs(e) || (a.isNaN && e.isNaN) }
        let wrong = actual.indices.filter { !isClose(actual[$0], expected[$0]) }
        guard !wrong.isEmpty else { return }
        let bug = knownBugs.first { bug in
            bug.values.count == actual.count && actual.indices.allSatisfy { isClose(actual[$0], bug.values[$0]) }
        }
        let worst = wrong.max { difference(actual[$0], expected[$0]) < difference(actual[$1], expected[$1]) }!
        let shown = wrong.prefix(4)
        let nonFinite = wrong.filter { !actual[$0].isFinite }.count
        throw CheckFailure(
            expected: "\(what): "
                + shown.map { "\(names.describe($0)) = \(format(expected[$0]))" }.joined(separator: ", "),
            actual: shown.map { "\(names.describe($0)) = \(format(actual[$0]))" }.joined(separator: ", ")
                + "; \(wrong.count) of \(actual.count) entries differ"
                + (nonFinite > 0
                    ? " (\(nonFinite) not finite)"
                    : ", the most by \(format(difference(actual[worst], expected[worst]))) at \(names.describe(worst))"),
            hint: bug?.hint ?? hint)
    }

    /// Exact comparison of integer results, ignoring the positions in `skip`.
    static func equal(
        _ actual: [Int], _ expected: [Int], of what: String, names: EntryNames, skip: Set<Int> = [], hint: String,
        knownBugs: [(values: [Int], hint: String)] = []
    ) throws {
        guard actual.count == expected.count else {
            throw CheckFailure(
                expected: "\(expected.count) values for \(what)", actual: "\(actual.count) values", hint: hint)
        }
        let wrong = actual.indices.filter { !skip.contains($0) && actual[$0] != expected[$0] }
        guard !wrong.isEmpty else { return }
        let bug = knownBugs.first { bug in
            bug.values.count == actual.count
                && actual.indices.allSatisfy { skip.contains($0) || bug.values[$0] == actual[$0] }
        }
        let shown = wrong.prefix(4)
        throw CheckFailure(
            expected: "\(what): " + shown.map { "\(names.describe($0)) = \(expected[$0])" }.joined(separator: ", "),
            actual: shown.map { "\(names.describe($0)) = \(actual[$0])" }.joined(separator: ", ")
                + "; \(wrong.count) of \(actual.count - skip.count) positions differ",
            hint: bug?.hint ?? hint)
    }

    private static func difference(_ a: Double, _ b: Double) -> Double {
        let d = abs(a - b)
        return d.isNaN ? .infinity : d
    }

    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+infinity" : "-infinity" }
        if value == value.rounded() && abs(value) < 1e6 { return String(Int(value)) }
        return String(format: "%.6g", value)
    }

    static func format(_ values: [Double]) -> String {
        let shown = values.prefix(8).map(format).joined(separator: ", ")
        return "[\(shown)\(values.count > 8 ? ", ... (\(values.count) values)" : "")]"
    }
}

extension Tensor {
    /// The elements as Doubles, for comparisons.
    var doubles: [Double] { scalars.map(Double.init) }
}
