import Foundation
import Tensors

/// Independent reference math for the judges: plain loops in Double over
/// nested arrays, written from the definitions and sharing no code with the
/// tensor library or the Solutions. It lives only in the grader's process.
enum BruteForce {
    typealias Matrix = [[Double]]

    /// `D3PMConstants.logEpsilon`, as the Float the exercises add, in Double.
    static let eps = Double(Float(1e-9))

    static func matrices(_ tensor: Tensor) -> [Matrix] {
        let (t, k) = (tensor.shape[0], tensor.shape[1])
        return (0..<t).map { s in (0..<k).map { i in (0..<k).map { j in Double(tensor.scalars[(s * k + i) * k + j]) } }
        }
    }

    static func tensor(_ matrices: [Matrix]) -> Tensor {
        let k = matrices.first?.count ?? 0
        return Tensor(shape: [matrices.count, k, k], scalars: matrices.flatMap { $0.flatMap { $0.map(Float.init) } })
    }

    static func flat(_ matrices: [Matrix]) -> [Double] { matrices.flatMap { $0.flatMap { $0 } } }

    static func product(_ a: Matrix, _ b: Matrix) -> Matrix {
        let k = a.count
        return (0..<k).map { i in (0..<k).map { j in (0..<k).reduce(0) { $0 + a[i][$1] * b[$1][j] } } }
    }

    /// Q_t = (1 - beta_t) I + beta_t / K for every t; `offDiagonal` gives the
    /// entries off the diagonal for known mistakes (the diagonal takes the rest).
    static func uniformOnestep(numClasses k: Int, betas: [Double], offDiagonal: ((Double) -> Double)? = nil) -> [Matrix]
    {
        betas.map { beta in
            let off = offDiagonal?(beta) ?? beta / Double(k)
            let diagonal = offDiagonal == nil ? 1 - beta + beta / Double(k) : 1 - off * Double(k - 1)
            return (0..<k).map { i in (0..<k).map { j in i == j ? diagonal : off } }
        }
    }

    /// Q_t = (1 - beta_t) I + beta_t 1 e_m^T over K + 1 states, [MASK] at `mask` (the last by default).
    static func absorbingOnestep(numClasses k: Int, betas: [Double], mask: Int? = nil) -> [Matrix] {
        let states = k + 1, m = mask ?? k
        return betas.map { beta in
            (0..<states).map { i in (0..<states).map { j in (i == j ? 1 - beta : 0) + (j == m ? beta : 0) } }
        }
    }

    /// Discretized-Gaussian matrices; `includeZeroOffset` and `scaled` give known mistakes.
    static func gaussianOnestep(numClasses k: Int, betas: [Double], includeZeroOffset: Bool = true, scaled: Bool = true)
        -> [Matrix]
    {
        let scale = scaled ? Double((k - 1) * (k - 1)) : 1
        return betas.map { beta in
            let z = (-(k - 1)...(k - 1)).filter { includeZeroOffset || $0 != 0 }.reduce(0.0) {
                $0 + exp(-4 * Double($1 * $1) / (scale * beta))
            }
            return (0..<k).map { i in
                let off = (0..<k).map { j in j == i ? 0 : exp(-4 * Double((i - j) * (i - j)) / (scale * beta)) / z }
                let rest = 1 - off.reduce(0, +)
                return (0..<k).map { j in j == i ? rest : off[j] }
            }
        }
    }

    /// Q_{1:t} = Q_1 ... Q_t for every t, or in reverse order (Q_t ... Q_1) to recognise that mistake.
    static func cumulative(_ onestep: [Matrix], reversed: Bool = false) -> [Matrix] {
        var result: [Matrix] = []
        for q in onestep {
            guard let last = result.last else {
                result.append(q)
                continue
            }
            result.append(reversed ? product(q, last) : product(last, q))
        }
        return result
    }

    /// The posterior logits log(Q_t[j, x_t] + eps) + log(sum_i p0_i Q_{1:t-1}[i, j] + eps),
    /// or `x0Logits` at t = 1. The options give the logits of known mistakes.
    static func posteriorLogits(
        p0: [Double], x0Logits: [Double], xt: Int, t: Int, onestep: [Matrix], cumulative: [Matrix],
        mistake: PosteriorMistake? = nil
    ) -> [Double] {
        let k = p0.count
        var step = t
        if mistake == .previousStep { step = max(t - 1, 1) }
        let shift = mistake == .cumulativeAtT ? 1 : 0
        if step == 1 && shift == 0 && mistake != .noFirstStepCase { return x0Logits }
        let p = mistake == .logitsAsProbabilities ? x0Logits.map { max($0, 0) } : p0
        let q = onestep[mistake == .likelihoodAtPreviousStep ? max(step - 2, 0) : step - 1]
        let c =
            step - 2 + shift >= 0
            ? cumulative[step - 2 + shift] : (0..<k).map { i in (0..<k).map { i == $0 ? 1.0 : 0 } }
        return (0..<k).map { j in
            let likelihood = mistake == .rowNotColumn ? q[xt][j] : q[j][xt]
            let prior = (0..<k).reduce(0.0) { $0 + p[$1] * (mistake == .priorFromColumn ? c[j][$1] : c[$1][j]) }
            return log(likelihood + eps) + log(prior + eps)
        }
    }

    /// Mistakes in a posterior whose answers the judges compute to recognise them.
    enum PosteriorMistake {
        /// Q_{1:t} where Q_{1:t-1} belongs.
        case cumulativeAtT
        /// Row x_t of Q_t instead of column x_t.
        case rowNotColumn
        /// The x0 logits used as probabilities, without softmax.
        case logitsAsProbabilities
        /// The posterior of step t - 1.
        case previousStep
        /// t = 1 treated as any other step.
        case noFirstStepCase
        /// The likelihood from Q_{t-1} instead of Q_t.
        case likelihoodAtPreviousStep
        /// The prior from the columns of Q_{1:t-1} (p Q^T) instead of its rows.
        case priorFromColumn
    }

    static func softmax(_ logits: [Double]) -> [Double] {
        let m = logits.max() ?? 0
        guard m.isFinite else { return logits.map { _ in .nan } }
        let e = logits.map { exp($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    static func logSoftmax(_ logits: [Double]) -> [Double] {
        let m = logits.max() ?? 0
        let s = log(logits.reduce(0) { $0 + exp($1 - m) }) + m
        return logits.map { $0 - s }
    }

    /// KL(p || q) of two distributions.
    static func kl(_ p: [Double], _ q: [Double]) -> Double {
        zip(p, q).reduce(0) { $0 + ($1.0 > 0 ? $1.0 * (log($1.0) - log($1.1)) : 0) }
    }

    /// KL(softmax(a) || softmax(b)), through log-softmax as the exercises compute it.
    static func klOfLogits(_ a: [Double], _ b: [Double]) -> Double {
        let la = logSoftmax(a), lb = logSoftmax(b)
        return zip(la, lb).reduce(0) { $0 + exp($1.0) * ($1.0 - $1.1) }
    }

    static func entropy(_ p: [Double]) -> Double {
        -p.reduce(0) { $0 + ($1 > 0 ? $1 * log($1) : 0) }
    }

    /// Standard Gumbel noise from a uniform number, clamped as the practical says.
    static func gumbel(_ u: Float) -> Double {
        let eps = Double(1e-6 as Float)
        let clamped = min(max(Double(u), eps), 1 - eps)
        return -log(-log(clamped))
    }

    /// Argmax of scores, and the margin between the best two.
    static func argmax(_ scores: [Double]) -> (index: Int, margin: Double) {
        let order = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        let margin = scores.count > 1 ? scores[order[0]] - scores[order[1]] : .infinity
        return (order[0], margin.isNaN ? 0 : margin)
    }

    /// Argmax of logits + Gumbel(noise), and the margin between the best two
    /// scores (tiny margins are skipped by exact comparisons).
    static func gumbelArgmax(logits: [Double], noise: ArraySlice<Float>) -> (index: Int, margin: Double) {
        argmax(zip(logits, noise).map { $0 + gumbel($1) })
    }

    /// The rows of the last axis of a tensor, as Doubles.
    static func rows(_ tensor: Tensor) -> [[Double]] {
        let k = tensor.shape.last ?? 1
        return stride(from: 0, to: tensor.count, by: max(k, 1)).map { start in
            tensor.scalars[start..<(start + k)].map(Double.init)
        }
    }

    /// Central differences of a scalar function of a vector, in Double.
    static func numericGradient(at x: [Double], step: Double = 1e-6, _ f: ([Double]) -> Double) -> [Double] {
        x.indices.map { i in
            var plus = x, minus = x
            plus[i] += step
            minus[i] -= step
            return (f(plus) - f(minus)) / (2 * step)
        }
    }
}

/// Statistical tests with fixed thresholds.
enum Statistics {
    /// Pearson's chi-square statistic of observed counts against expected probabilities.
    static func chiSquare(counts: [Int], probabilities: [Double]) -> Double {
        let n = Double(counts.reduce(0, +))
        return zip(counts, probabilities).reduce(0) { total, pair in
            let expected = n * pair.1
            return expected > 0
                ? total + pow(Double(pair.0) - expected, 2) / expected : total + (pair.0 > 0 ? .infinity : 0)
        }
    }

    /// The hint of the one mistake in `mistakes` whose distribution the
    /// counts fit (chi-square below `critical`), or nil when none or several
    /// do: mid-chain, several mistakes' distributions lie close together, and
    /// naming the first that fits named one mistake as another.
    static func namedMistake(counts: [Int], mistakes: [(p: [Double], hint: String)], critical: Double) -> String? {
        let fitting = mistakes.filter { chiSquare(counts: counts, probabilities: $0.p) < critical }
        return fitting.count == 1 ? fitting[0].hint : nil
    }

    /// Critical values of the chi-square distribution at p = 1e-6, by degrees of freedom.
    /// A correct sampler exceeds them once in a million runs.
    static let chiSquareCritical: [Int: Double] = [1: 23.93, 2: 27.63, 3: 30.66, 4: 33.38, 5: 35.89, 6: 38.26]
}
