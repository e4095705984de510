import Foundation
import Tensors

/// Independent reference math for the checks: plain loops in Double over
/// nested arrays, written from the definitions and sharing no code with the
/// tensor library or the Solutions.
enum BruteForce {
    typealias Matrix = [[Double]]

    static func matrices(_ tensor: Tensor) -> [Matrix] {
        let (t, k) = (tensor.shape[0], tensor.shape[1])
        return (0..<t).map { s in (0..<k).map { i in (0..<k).map { j in Double(tensor[at: s, i, j]) } } }
    }

    static func tensor(_ matrices: [Matrix]) -> Tensor {
        let k = matrices.first?.count ?? 0
        return Tensor(shape: [matrices.count, k, k], scalars: matrices.flatMap { $0.flatMap { $0.map(Float.init) } })
    }

    static func product(_ a: Matrix, _ b: Matrix) -> Matrix {
        let k = a.count
        return (0..<k).map { i in (0..<k).map { j in (0..<k).reduce(0) { $0 + a[i][$1] * b[$1][j] } } }
    }

    /// Q_t = (1 - beta_t) I + beta_t / K for every t.
    static func uniformOnestep(numClasses k: Int, betas: [Double]) -> [Matrix] {
        betas.map { beta in (0..<k).map { i in (0..<k).map { j in (i == j ? 1 - beta : 0) + beta / Double(k) } } }
    }

    /// Q_{1:t} = Q_1 ... Q_t for every t, or in reverse order (Q_t ... Q_1) to recognise that bug.
    static func cumulative(_ onestep: [Matrix], reversed: Bool = false) -> [Matrix] {
        var result: [Matrix] = []
        for q in onestep {
            guard let last = result.last else { result.append(q); continue }
            result.append(reversed ? product(q, last) : product(last, q))
        }
        return result
    }

    /// Random row-stochastic, non-symmetric matrices whose products do not commute.
    static func randomStochastic(count: Int, numClasses k: Int, using rng: inout RandomGenerator) -> [Matrix] {
        (0..<count).map { _ in
            (0..<k).map { i in
                var row = (0..<k).map { j in Double(rng.nextUniform()) + (i == j ? 1.5 : 0.05) }
                let total = row.reduce(0, +)
                row = row.map { $0 / total }
                return row
            }
        }
    }

    /// The posterior q(x_{t-1} = j | x_t, x0 ~ p0) by Bayes' rule:
    /// proportional to Q_t[j, x_t] * sum_i p0[i] Q_{1:t-1}[i, j]; p0 itself at t = 1.
    /// `useCumulativeAt` and `transposeOnestep` produce the known bugs' answers.
    static func posterior(
        p0: [Double], xt: Int, t: Int, onestep: [Matrix], cumulative: [Matrix],
        cumulativeIndexShift: Int = 0, transposeOnestep: Bool = false
    ) -> [Double] {
        if t == 1 && cumulativeIndexShift == 0 { return p0 }
        let k = p0.count
        let q = onestep[t - 1]
        let c = cumulative[t - 2 + cumulativeIndexShift]
        let unnormalised = (0..<k).map { j -> Double in
            let likelihood = transposeOnestep ? q[xt][j] : q[j][xt]
            let prior = (0..<k).reduce(0.0) { $0 + p0[$1] * c[$1][j] }
            return likelihood * prior
        }
        let total = unnormalised.reduce(0, +)
        return unnormalised.map { $0 / total }
    }

    static func softmax(_ logits: [Double]) -> [Double] {
        let m = logits.max() ?? 0
        let e = logits.map { exp($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }

    static func kl(_ p: [Double], _ q: [Double]) -> Double {
        zip(p, q).reduce(0) { $0 + ($1.0 > 0 ? $1.0 * (log($1.0) - log($1.1)) : 0) }
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

    /// Argmax of logits + Gumbel(noise), and the margin between the best two
    /// scores (tiny margins are skipped by exact comparisons).
    static func gumbelArgmax(logits: [Double], noise: [Float]) -> (index: Int, margin: Double) {
        let scores = zip(logits, noise).map { $0 + gumbel($1) }
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        let margin = scores.count > 1 ? scores[order[0]] - scores[order[1]] : .infinity
        return (order[0], margin)
    }

    /// The rows of the last axis of a tensor, as Doubles.
    static func rows(_ tensor: Tensor) -> [[Double]] {
        let k = tensor.shape.last ?? 1
        return stride(from: 0, to: tensor.count, by: k).map { start in
            tensor.scalars[start..<(start + k)].map(Double.init)
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
            return expected > 0 ? total + pow(Double(pair.0) - expected, 2) / expected : total
        }
    }

    /// Critical values of the chi-square distribution at p = 1e-6, by degrees of freedom.
    /// A correct sampler exceeds them once in a million runs.
    static let chiSquareCritical: [Int: Double] = [1: 23.93, 2: 27.63, 3: 30.66, 4: 33.38, 5: 35.89]
}
