import D3PM
import Foundation
import Tensors

/// Exercise 1: uniform one-step matrices and their cumulative products.
enum Exercise1 {
    static let info = ExerciseInfo(
        number: 1, title: "Transition matrices", file: "Exercises/Exercise1+TransitionMatrices.swift",
        functions: ["makeUniformQOnestep", "cumulativeQ"],
        hint:
            "Write Q_t for one t on paper with K = 2 first: what is the probability of staying put? For the product, which matrix acts first on the row vector of x_0?",
        knownMistakes: [
            "a diagonal of 1 - beta_t (the jump can land on the same class)",
            "beta_t or beta_t / (K - 1) off the diagonal instead of beta_t / K",
            "the product in the wrong order (Q_t ... Q_1)",
            "products shifted by one step (index 0 holding the identity)",
        ]
    ) { number in
        [
            Check(
                exercise: number, name: "shapes", title: "Q_t and Q_{1:t} have shape [T, K, K]",
                hint: "makeUniformQOnestep returns one K x K matrix per beta; cumulativeQ keeps one product per step.",
                trial: shapes),
            Check(
                exercise: number, name: "uniform-values",
                title: "Q_t = (1 - beta_t) I + (beta_t / K) 1 1^T, entry by entry", points: 2,
                hint:
                    "Off the diagonal: the jump's share for one class. On the diagonal: staying put, plus the jump that lands back.",
                trial: uniformValues),
            Check(
                exercise: number, name: "rows-sum-to-one",
                title: "every row of Q_t and Q_{1:t} sums to 1 (the practical's check)",
                hint: "A row of Q_t is a distribution over the next class: it must sum to 1.", trial: rowsSumToOne),
            Check(
                exercise: number, name: "cumulative-closed-form",
                title: "Q_{1:t} of uniform matrices is abar_t I + (1 - abar_t) / K 1 1^T", points: 2,
                hint: "Q_{1:1} = Q_1 and Q_{1:t} = Q_{1:t-1} Q_t, with a matrix product.", trial: cumulativeClosedForm),
            Check(
                exercise: number, name: "cumulative-order",
                title: "Q_{1:t} = Q_1 Q_2 ... Q_t on random, non-commuting matrices", points: 2,
                hint: "Q_{1:t} = Q_{1:t-1} Q_t: one matrix product per step, in the order the steps happen.",
                trial: cumulativeOrder),
            Check(
                exercise: number, name: "entropy-rises",
                title: "the entropy of each row of Q_{1:t} starts at Q_1's, never decreases and tends to log K",
                hint: "Noise only accumulates: every row flattens towards uniform as t grows.", trial: entropyRises),
        ]
    }

    static func shapes(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 101)
        let k = draw.int(2...6), steps = draw.int(2...8)
        let betas = draw.betas(steps, in: 0.01...0.3)
        let onestep = BruteForce.tensor(BruteForce.uniformOnestep(numClasses: k, betas: betas))
        return Trial(calls: [
            .makeUniformQOnestep(numClasses: k, betas: Tensor(betas.map(Float.init))), .cumulativeQ(onestep),
        ]) { results in
            try Expect.shape(
                try results.value(0).shape, [steps, k, k],
                of: "makeUniformQOnestep(numClasses: \(k), betas: [\(steps) values])")
            try Expect.shape(
                try results.value(1).shape, [steps, k, k], of: "cumulativeQ of a [\(steps), \(k), \(k)] tensor")
        }
    }

    static func uniformValues(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 102)
        let k = draw.int(3...6), steps = draw.int(3...6)
        let betas = draw.betas(steps, in: 0.02...0.95)
        return Trial(.makeUniformQOnestep(numClasses: k, betas: Tensor(betas.map(Float.init)))) { results in
            let q = try results.value()
            try Expect.shape(
                q.shape, [steps, k, k], of: "makeUniformQOnestep(numClasses: \(k), betas: [\(steps) values])")
            let expected = BruteForce.flat(BruteForce.uniformOnestep(numClasses: k, betas: betas))
            let diagonalOneMinusBeta = betas.flatMap { b in
                (0..<k).flatMap { i in (0..<k).map { j in i == j ? 1 - b : b / Double(k) } }
            }
            try Expect.finite(
                q.doubles, of: "Q_t", names: .matrices(q.shape),
                hint: "Q_t holds probabilities: check for a division by zero.")
            try Expect.close(
                q.doubles, expected, of: "Q_t for K = \(k), betas \(Expect.format(betas))", names: .matrices(q.shape),
                hint:
                    "Work out one row with the formula by hand: staying put has probability 1 - beta_t, and the jump spreads beta_t over the classes.",
                knownBugs: [
                    KnownBug(
                        values: diagonalOneMinusBeta,
                        hint:
                            "Your diagonal is 1 - beta_t, so rows sum to 1 - beta_t + (K - 1) beta_t / K < 1. The uniform jump can land on the same class: the diagonal is 1 - beta_t + beta_t / K = 1 - (K - 1) beta_t / K."
                    ),
                    KnownBug(
                        values: BruteForce.flat(
                            BruteForce.uniformOnestep(numClasses: k, betas: betas, offDiagonal: { $0 })),
                        hint:
                            "Off the diagonal the probability is beta_t / K, not beta_t: the jump spreads beta_t over all K classes."
                    ),
                    KnownBug(
                        values: BruteForce.flat(
                            BruteForce.uniformOnestep(numClasses: k, betas: Array(betas.dropFirst()) + [betas[0]])),
                        hint:
                            "Q_t is built from beta_{t+1}: the betas are read one index too far. Step t's beta is betas[t - 1]."
                    ),
                    KnownBug(
                        values: BruteForce.flat(
                            BruteForce.uniformOnestep(numClasses: k, betas: Array(betas.reversed()))),
                        hint: "Your betas run backwards: step t's beta is betas[t - 1], the schedule rises with t."),
                    // The same mistake where the last step, past the end, repeats the last beta.
                    KnownBug(
                        values: BruteForce.flat(
                            BruteForce.uniformOnestep(
                                numClasses: k, betas: Array(betas.dropFirst()) + [betas[betas.count - 1]])),
                        hint:
                            "Q_t is built from beta_{t+1}: the betas are read one index too far. Step t's beta is betas[t - 1]."
                    ),
                    KnownBug(
                        values: BruteForce.flat(
                            BruteForce.uniformOnestep(numClasses: k, betas: [betas[steps - 1]] + betas.dropLast())),
                        hint:
                            "Q_t is built from beta_{t-1}: the betas are read one index too early. Step t's beta is betas[t - 1]."
                    ),
                    KnownBug(
                        values: BruteForce.flat(
                            BruteForce.uniformOnestep(numClasses: k, betas: betas, offDiagonal: { $0 / Double(k - 1) })),
                        hint:
                            "Off the diagonal you spread beta_t over the K - 1 other classes: the jump is uniform over all K classes, itself included, so each gets beta_t / K."
                    ),
                ])
        }
    }

    static func rowsSumToOne(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 103)
        let k = draw.int(2...6), steps = draw.int(3...8)
        let betas = draw.betas(steps, in: 0.01...0.4)
        let random = draw.stochasticMatrices(steps, classes: k)
        let calls: [ExerciseCall] = [
            .makeUniformQOnestep(numClasses: k, betas: Tensor(betas.map(Float.init))),
            .cumulativeQ(BruteForce.tensor(random)),
        ]
        return Trial(calls: calls) { results in
            let q = try results.value(0), cumulative = try results.value(1)
            try Expect.shape(
                q.shape, [steps, k, k], of: "makeUniformQOnestep(numClasses: \(k), betas: [\(steps) values])")
            try Expect.close(
                rowSums(q), [Double](repeating: 1, count: steps * k), of: "row sums of Q_t",
                names: EntryNames { "[t = \($0 / k + 1), row \($0 % k)]" }, atol: 1e-5, rtol: 0,
                hint: "Rows of Q_t must sum to 1: staying put and jumping are the only possibilities.")
            try Expect.shape(cumulative.shape, [steps, k, k], of: "cumulativeQ of a [\(steps), \(k), \(k)] tensor")
            try Expect.close(
                rowSums(cumulative), [Double](repeating: 1, count: steps * k),
                of: "row sums of Q_{1:t} for random row-stochastic Q_t",
                names: EntryNames { "[t = \($0 / k + 1), row \($0 % k)]" }, atol: 1e-5, rtol: 0,
                hint:
                    "A product of row-stochastic matrices is row-stochastic: check that you multiply matrices (matmul), not elements.",
                knownBugs: [
                    BruteForce.cumulative(random), BruteForce.cumulative(random, reversed: true),
                ].map { product in
                    // Column sums: the row sums of a transposed product.
                    KnownBug(
                        values: product.flatMap { m in (0..<k).map { j in m.reduce(0) { $0 + $1[j] } } },
                        hint:
                            "Your Q_{1:t} is transposed: its columns sum to 1, not its rows. Row i is where state i goes: Q_{1:t} = matmul(Q_{1:t-1}, Q_t), no transposes."
                    )
                })
        }
    }

    static func rowSums(_ q: Tensor) -> [Double] {
        BruteForce.rows(q).map { $0.reduce(0, +) }
    }

    static func cumulativeClosedForm(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 104)
        let k = draw.int(2...6), steps = draw.int(5...12)
        let betas = draw.betas(steps, in: 0.001...0.2)
        let process = ForwardProcess.uniform(classes: k, betas: betas)
        return Trial(.cumulativeQ(process.matrices.qOnestep)) { results in
            let cumulative = try results.value()
            try Expect.shape(cumulative.shape, [steps, k, k], of: "cumulativeQ of a [\(steps), \(k), \(k)] tensor")
            var alphaBar = 1.0
            let expected = process.onestep.flatMap { q -> [Double] in
                alphaBar *= 1 - (1 - q[0][0]) * Double(k) / Double(k - 1)
                let a = alphaBar
                return (0..<k).flatMap { i in (0..<k).map { j in (i == j ? a : 0) + (1 - a) / Double(k) } }
            }
            let identity: [Double] = (0..<(k * k)).map { $0 % (k + 1) == 0 ? 1 : 0 }
            try Expect.close(
                cumulative.doubles, expected, of: "Q_{1:t}, \(process.description)", names: .matrices(cumulative.shape),
                atol: 1e-5, rtol: 1e-4, hint: "Index t - 1 holds Q_{1:t}: index 0 is Q_1 itself, index 1 is Q_1 Q_2.",
                knownBugs: [
                    KnownBug(
                        values: identity + expected.dropLast(k * k),
                        hint:
                            "Your products are shifted by one step: index 0 must hold Q_1, index t - 1 must hold Q_1 ... Q_t."
                    )
                ])
        }
    }

    static func cumulativeOrder(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 105)
        let process = ForwardProcess.random(&draw, steps: 3...6, classes: 3...5)
        return Trial(.cumulativeQ(process.matrices.qOnestep)) { results in
            let cumulative = try results.value()
            let shape = [process.numSteps, process.numClasses, process.numClasses]
            try Expect.shape(cumulative.shape, shape, of: "cumulativeQ of a \(shape) tensor")
            let reversed = BruteForce.flat(BruteForce.cumulative(process.onestep, reversed: true))
            try Expect.close(
                cumulative.doubles, BruteForce.flat(process.cumulative), of: "Q_{1:t} of \(process.description)",
                names: .matrices(shape), atol: 1e-5, rtol: 1e-4,
                hint: "Q_{1:t} = Q_1 Q_2 ... Q_t, one matrix product per step.",
                knownBugs: [
                    KnownBug(
                        values: reversed,
                        hint:
                            "You computed Q_t ... Q_2 Q_1: the product is in the wrong order. Uniform matrices commute, so this only shows on other matrices. q(x_t | x_0) is row x_0 of the product: which step's matrix must act on that row first?"
                    )
                ])
        }
    }

    static func entropyRises(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 106)
        let k = draw.int(3...5), steps = draw.int(30...50)
        let start = draw.double(0.005...0.02), end = draw.double(0.2...0.3)
        let betas = (0..<steps).map { Double(Float(start + Double($0) * (end - start) / Double(steps - 1))) }
        let process = ForwardProcess.uniform(classes: k, betas: betas)
        return Trial(.cumulativeQ(process.matrices.qOnestep)) { results in
            let cumulative = try results.value()
            try Expect.shape(cumulative.shape, [steps, k, k], of: "cumulativeQ of a [\(steps), \(k), \(k)] tensor")
            let matrices = BruteForce.matrices(cumulative)
            for row in 0..<k {
                let entropies = matrices.map { BruteForce.entropy($0[row]) }
                for t in 1..<steps where !(entropies[t] >= entropies[t - 1] - 1e-6) {
                    throw CheckFailure(
                        expected: "the entropy of row x_0 = \(row) of Q_{1:t} non-decreasing in t",
                        actual:
                            "H(t = \(t)) = \(Expect.format(entropies[t - 1])), H(t = \(t + 1)) = \(Expect.format(entropies[t]))",
                        hint:
                            "Each step mixes in more uniform noise; a falling entropy means a wrong matrix or a wrong product."
                    )
                }
                // Where it starts, too: a constant matrix (all 1/K, or the identity) never decreases either.
                let first = BruteForce.entropy(process.cumulative[0][row])
                try Expect.that(
                    abs(entropies[0] - first) < 1e-3,
                    expected:
                        "H(t = 1) = \(Expect.format(first)) for row \(row): Q_{1:1} = Q_1, still close to the identity",
                    actual: Expect.format(entropies[0]),
                    hint:
                        "Q_{1:1} is Q_1 itself: after one small step most of each row's mass is still on its diagonal.")
                let exact = BruteForce.entropy(process.cumulative[steps - 1][row])
                try Expect.that(
                    abs(entropies[steps - 1] - exact) < 1e-3,
                    expected:
                        "H(t = \(steps)) = \(Expect.format(exact)) for row \(row), near log K = \(Expect.format(log(Double(k))))",
                    actual: Expect.format(entropies[steps - 1]),
                    hint: "After \(steps) steps with beta up to \(Expect.format(end)) the rows are nearly uniform.")
            }
        }
    }
}
