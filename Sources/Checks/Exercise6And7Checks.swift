import D3PM
import Foundation
import Tensors

/// Exercises 6 and 7: absorbing-state and discretized-Gaussian matrices.
enum OtherCorruptionChecks {
    /// Q_t = (1 - beta) I + beta 1 e_m^T over K + 1 states, with [MASK] at `mask`.
    static func absorbing(numClasses k: Int, betas: [Double], mask: Int? = nil) -> [Double] {
        let states = k + 1, m = mask ?? k
        var values: [Double] = []
        for beta in betas {
            for i in 0..<states {
                for j in 0..<states { values.append((i == j ? 1 - beta : 0) + (j == m ? beta : 0)) }
            }
        }
        return values
    }

    /// The discretized-Gaussian matrices; `includeZeroOffset` and `scaled` give known mistakes.
    static func gaussian(numClasses k: Int, betas: [Double], includeZeroOffset: Bool = true, scaled: Bool = true) -> [Double] {
        let scale = scaled ? Double((k - 1) * (k - 1)) : 1
        return betas.flatMap { beta -> [Double] in
            let z = (-(k - 1)...(k - 1)).filter { includeZeroOffset || $0 != 0 }.reduce(0.0) { $0 + exp(-4 * Double($1 * $1) / (scale * beta)) }
            return (0..<k).flatMap { i -> [Double] in
                let off = (0..<k).map { j in j == i ? 0 : exp(-4 * Double((i - j) * (i - j)) / (scale * beta)) / z }
                let rest = 1 - off.reduce(0, +)
                return (0..<k).map { j in j == i ? rest : off[j] }
            }
        }
    }

    static let absorbingHint = "Q_t = (1 - beta_t) I + beta_t 1 e_m^T over K + 1 states: each value keeps itself with 1 - beta_t and goes to [MASK] (the last state) with beta_t."
    static let gaussianHint = "Off the diagonal exp(-4 (i - j)^2 / ((K - 1)^2 beta_t)) / Z_t, with Z_t summed over n = -(K - 1) ... K - 1; the diagonal is 1 minus the rest of its row."

    static let all: [Check] = [
        Check(.exercise6, "absorbing-values", "Q_t = (1 - beta_t) I + beta_t 1 e_m^T over K + 1 states, entry by entry",
              points: 2, hint: absorbingHint) { ex, _ in
            let betas = [0.1, 0.5, 1.0]
            let q = ex.makeAbsorbingQOnestep(numClasses: 3, betas: Tensor(betas.map(Float.init)))
            try Expect.shape(q.shape, [3, 4, 4], of: "makeAbsorbingQOnestep(numClasses: 3, betas: [3 values])",
                             hint: "There are K + 1 states: the K classes and [MASK], the last one.")
            let uniformJump = BruteForce.uniformOnestep(numClasses: 4, betas: betas).flatMap { $0.flatMap { $0 } }
            try Expect.close(q.doubles, absorbing(numClasses: 3, betas: betas), of: "Q_t for betas [0.1, 0.5, 1], K = 3", hint: absorbingHint, knownBugs: [
                KnownBug(values: absorbing(numClasses: 3, betas: betas, mask: 0), hint: "[MASK] is the last state (index K), not the first."),
                KnownBug(values: uniformJump, hint: "The jump goes to [MASK] only, not uniformly over the states."),
            ])
        },
        Check(.exercise6, "absorbing-mask-stays", "[MASK] never leaves, rows sum to 1, and with beta_t = 1/(T - t + 1) everything is masked at t = T",
              points: 2, hint: "The row of [MASK] must be e_m: it keeps all its mass.") { ex, _ in
            let steps = 5
            let q = ex.makeAbsorbingQOnestep(numClasses: 2, betas: NoiseSchedule.inverse.betas(steps: steps))
            try Expect.shape(q.shape, [steps, 3, 3], of: "makeAbsorbingQOnestep(numClasses: 2, betas: [5 values])",
                             hint: "There are K + 1 states: the K classes and [MASK], the last one.")
            try Expect.close(q.sum(axis: -1).doubles, [Double](repeating: 1, count: steps * 3), of: "row sums of Q_t", atol: 1e-5, rtol: 0,
                             hint: "Every row of Q_t is a distribution: it sums to 1.")
            let cumulative = BruteForce.cumulative(BruteForce.matrices(q))
            let unmasked = (1...steps).map { cumulative[$0 - 1][0][0] }
            try Expect.close(unmasked, (1...steps).map { 1 - Double($0) / Double(steps) }, of: "P(x_t = x_0) under beta_t = 1 / (T - t + 1)",
                             atol: 1e-5, rtol: 1e-4, hint: "A value survives step t with probability 1 - beta_t, and [MASK] is never undone.")
            try Expect.close(cumulative[steps - 1].map { $0[2] }, [1, 1, 1], of: "column [MASK] of Q_{1:T}", atol: 1e-5, rtol: 0,
                             hint: "At t = T every row, [MASK]'s own included, must be all [MASK].")
        },
        Check(.exercise7, "gaussian-values", "discretized-Gaussian Q_t entry by entry (K = 4 and K = 5)",
              points: 3, hint: gaussianHint) { ex, _ in
            for k in [4, 5] {
                let betas = [0.05, 0.3, 2.0]
                let q = ex.makeGaussianQOnestep(numClasses: k, betas: Tensor(betas.map(Float.init)))
                try Expect.shape(q.shape, [3, k, k], of: "makeGaussianQOnestep(numClasses: \(k), betas: [3 values])")
                try Expect.close(q.doubles, gaussian(numClasses: k, betas: betas), of: "Q_t for K = \(k), betas [0.05, 0.3, 2]",
                                 atol: 1e-5, rtol: 1e-4, hint: gaussianHint, knownBugs: [
                    KnownBug(values: gaussian(numClasses: k, betas: betas, includeZeroOffset: false),
                             hint: "Z_t sums over every offset n = -(K - 1) ... K - 1, n = 0 included."),
                    KnownBug(values: gaussian(numClasses: k, betas: betas, scaled: false),
                             hint: "The exponent is -4 (i - j)^2 / ((K - 1)^2 beta_t): the (K - 1)^2 is missing."),
                ])
            }
        },
        Check(.exercise7, "gaussian-structure", "rows sum to 1, Q_t is symmetric, and nearer levels are likelier",
              points: 2, hint: "Rows must sum to 1 (the diagonal takes the rest), and Q_t[i, j] must shrink as |i - j| grows.") { ex, _ in
            let k = 6
            let q = ex.makeGaussianQOnestep(numClasses: k, betas: Tensor([0.2, 1.0]))
            try Expect.shape(q.shape, [2, k, k], of: "makeGaussianQOnestep(numClasses: 6, betas: [0.2, 1])")
            try Expect.close(q.sum(axis: -1).doubles, [Double](repeating: 1, count: 2 * k), of: "row sums", atol: 1e-5, rtol: 0,
                             hint: "The diagonal is 1 minus the sum of the rest of its row.")
            try Expect.close(q.doubles, q.transposed().doubles, of: "Q_t^T (symmetry)", atol: 1e-6, rtol: 0,
                             hint: "Q_t[i, j] depends on (i - j)^2 only, and Z_t is the same for every row.")
            for s in 0..<2 {
                for i in 0..<k {
                    let row = (0..<k).map { Double(q[at: s, i, $0]) }
                    for j in 0..<k where j != i && abs(j - i) > 1 {
                        let nearer = j > i ? j - 1 : j + 1
                        guard nearer != i else { continue }
                        try Expect.that(row[nearer] > row[j], expected: "Q[\(i), \(nearer)] > Q[\(i), \(j)] (a nearer level is likelier)",
                                        actual: "\(Expect.format(row[nearer])) and \(Expect.format(row[j]))", hint: gaussianHint)
                    }
                }
            }
        },
    ]
}
