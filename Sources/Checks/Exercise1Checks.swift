import D3PM
import Foundation
import Tensors

/// Exercise 1: uniform one-step matrices and their cumulative products.
enum Exercise1Checks {
    static let practicalBetas: [Float] = [0.01, 0.0575, 0.105, 0.1525, 0.2]  // linspace(0.01, 0.2, 5)

    static let all: [Check] = [
        Check(.exercise1, "shapes", "Q_t and Q_{1:t} have shape [T, K, K] (K = 3, T = 5)",
              hint: "makeUniformQOnestep returns one K x K matrix per beta; cumulativeQ keeps one product per step.") { ex, _ in
            let q = ex.makeUniformQOnestep(numClasses: 3, betas: Tensor(practicalBetas))
            try Expect.shape(q.shape, [5, 3, 3], of: "makeUniformQOnestep(numClasses: 3, betas: [5 values])")
            let cumulative = ex.cumulativeQ(q)
            try Expect.shape(cumulative.shape, [5, 3, 3], of: "cumulativeQ of a [5, 3, 3] tensor")
        },
        Check(.exercise1, "uniform-values", "Q_t = (1 - beta_t) I + (beta_t / K) 1 1^T, entry by entry",
              points: 2, hint: "Off the diagonal: beta_t / K. On the diagonal: keep (1 - beta_t) plus the jump that lands back, beta_t / K.") { ex, _ in
            let betas = [0.01, 0.1, 0.3, 0.9]
            let q = ex.makeUniformQOnestep(numClasses: 4, betas: Tensor(betas.map(Float.init)))
            try Expect.shape(q.shape, [4, 4, 4], of: "makeUniformQOnestep(numClasses: 4, betas: [4 values])")
            let expected = BruteForce.uniformOnestep(numClasses: 4, betas: betas).flatMap { $0.flatMap { $0 } }
            let diagonalOneMinusBeta = betas.flatMap { b in (0..<4).flatMap { i in (0..<4).map { j in i == j ? 1 - b : b / 4 } } }
            let offDiagonalBeta = betas.flatMap { b in (0..<4).flatMap { i in (0..<4).map { j in i == j ? 1 - b : b } } }
            try Expect.close(q.doubles, expected, of: "Q_t for betas [0.01, 0.1, 0.3, 0.9], K = 4", hint: "Compare one row with the formula by hand.", knownBugs: [
                KnownBug(values: diagonalOneMinusBeta, hint: "Your diagonal is 1 - beta_t, so rows sum to 1 - beta_t + (K - 1) beta_t / K < 1. The uniform jump can land on the same class: the diagonal is 1 - beta_t + beta_t / K = 1 - (K - 1) beta_t / K."),
                KnownBug(values: offDiagonalBeta, hint: "Off the diagonal the probability is beta_t / K: the jump spreads beta_t over all K classes."),
            ])
        },
        Check(.exercise1, "rows-sum-to-one", "every row of Q_t and Q_{1:t} sums to 1 (the practical's check)",
              hint: "A row of Q_t is a distribution over the next class: it must sum to 1.") { ex, _ in
            let q = ex.makeUniformQOnestep(numClasses: 3, betas: Tensor(practicalBetas))
            try Expect.shape(q.shape, [5, 3, 3], of: "makeUniformQOnestep")
            try Expect.close(q.sum(axis: -1).doubles, [Double](repeating: 1, count: 15), of: "row sums of Q_t", atol: 1e-5, rtol: 0,
                             hint: "Rows of Q_t must sum to 1: the diagonal is 1 - beta_t + beta_t / K.")
            let cumulative = ex.cumulativeQ(q)
            try Expect.shape(cumulative.shape, [5, 3, 3], of: "cumulativeQ")
            try Expect.close(cumulative.sum(axis: -1).doubles, [Double](repeating: 1, count: 15), of: "row sums of Q_{1:t}", atol: 1e-5, rtol: 0,
                             hint: "A product of row-stochastic matrices is row-stochastic: check that you multiply matrices (matmul), not elements.")
        },
        Check(.exercise1, "cumulative-closed-form", "Q_{1:t} of uniform matrices is abar_t I + (1 - abar_t) / K 1 1^T",
              points: 2, hint: "Q_{1:1} = Q_1 and Q_{1:t} = Q_{1:t-1} Q_t, with a matrix product.") { ex, _ in
            let betas = (0..<10).map { 1e-3 + Double($0) * (0.15 - 1e-3) / 9 }
            let onestep = BruteForce.uniformOnestep(numClasses: 4, betas: betas)
            let cumulative = ex.cumulativeQ(BruteForce.tensor(onestep))
            try Expect.shape(cumulative.shape, [10, 4, 4], of: "cumulativeQ of a [10, 4, 4] tensor")
            var alphaBar = 1.0
            let expected = betas.flatMap { beta -> [Double] in
                alphaBar *= 1 - beta
                let a = alphaBar
                return (0..<4).flatMap { i in (0..<4).map { j in (i == j ? a : 0) + (1 - a) / 4 } }
            }
            let identity: [Double] = (0..<16).map { $0 % 5 == 0 ? 1 : 0 }
            let shifted = identity + expected.dropLast(16)
            try Expect.close(cumulative.doubles, expected, of: "Q_{1:t} for t = 1...10", atol: 1e-5, rtol: 1e-4,
                             hint: "Index t - 1 holds Q_{1:t}: index 0 is Q_1 itself, index 1 is Q_1 Q_2.",
                             knownBugs: [KnownBug(values: shifted, hint: "Your products are shifted by one step: index 0 must hold Q_1, index t - 1 must hold Q_1 ... Q_t.")])
        },
        Check(.exercise1, "cumulative-order", "Q_{1:t} = Q_1 Q_2 ... Q_t on random, non-commuting matrices",
              points: 2, hint: "Q_{1:t} = Q_{1:t-1} Q_t: the newest matrix multiplies on the right.") { ex, seed in
            var rng = RandomGenerator(seed: seed &+ 101)
            let onestep = BruteForce.randomStochastic(count: 4, numClasses: 3, using: &rng)
            let cumulative = ex.cumulativeQ(BruteForce.tensor(onestep))
            try Expect.shape(cumulative.shape, [4, 3, 3], of: "cumulativeQ of a [4, 3, 3] tensor")
            let expected = BruteForce.cumulative(onestep).flatMap { $0.flatMap { $0 } }
            let reversed = BruteForce.cumulative(onestep, reversed: true).flatMap { $0.flatMap { $0 } }
            try Expect.close(cumulative.doubles, expected, of: "Q_{1:t} of four random row-stochastic matrices", atol: 1e-5, rtol: 1e-4,
                             hint: "Q_{1:t} = Q_1 Q_2 ... Q_t, one matrix product per step.",
                             knownBugs: [KnownBug(values: reversed, hint: "You computed Q_t ... Q_2 Q_1: the product is in the wrong order. Uniform matrices commute, so this only shows on other matrices. q(x_t | x_0) = row x_0 of Q_1 Q_2 ... Q_t: the newest matrix goes on the right.")])
        },
        Check(.exercise1, "entropy-rises", "the entropy of row 0 of Q_{1:t} never decreases and tends to log K",
              hint: "Noise only accumulates: every row flattens towards uniform as t grows.") { ex, _ in
            let betas = Tensor.linspace(0.01, 0.2, count: 40)
            let cumulative = ex.cumulativeQ(ex.makeUniformQOnestep(numClasses: 3, betas: betas))
            try Expect.shape(cumulative.shape, [40, 3, 3], of: "cumulativeQ(makeUniformQOnestep(3, 40 betas))")
            let entropies = (0..<40).map { t in BruteForce.entropy((0..<3).map { Double(cumulative[at: t, 0, $0]) }) }
            for t in 1..<40 where entropies[t] < entropies[t - 1] - 1e-6 {
                throw CheckFailure(
                    expected: "entropy of row 0 non-decreasing in t", actual: "H(t = \(t)) = \(Expect.format(entropies[t - 1])), H(t = \(t + 1)) = \(Expect.format(entropies[t]))",
                    hint: "Each step mixes in more uniform noise; a decreasing entropy means a wrong matrix or a wrong product.")
            }
            try Expect.that(abs(entropies[39] - log(3.0)) < 0.01, expected: "H(t = 40) close to log 3 = 1.0986",
                            actual: Expect.format(entropies[39]), hint: "After 40 steps with beta up to 0.2 the rows are nearly uniform.")
        },
    ]
}
