import D3PM
import Foundation
import Tensors

/// Exercise 2: gatherAt, the posterior in both forms, and Gumbel-max.
enum Exercise2 {
    static let info = ExerciseInfo(
        number: 2, title: "Posterior and Gumbel-max", file: "Exercises/Exercise2+Posterior.swift",
        functions: ["gatherAt", "qPosteriorLogits", "gumbelMaxSample"],
        hint:
            "Bayes' rule: q(x_{t-1} | x_t, x0) is proportional to q(x_t | x_{t-1}) q(x_{t-1} | x0). Which matrix gives each factor, at which index, and as a row or a column?",
        knownMistakes: [
            "a[t] read instead of a[t - 1]; a column picked instead of a row",
            "Q_{1:t} where Q_{1:t-1} belongs; row x_t of Q_t instead of column x_t",
            "no eps inside the log (log 0 = -infinity)",
            "t = 1 not handled; x0 logits used as probabilities without softmax",
            "a posterior cut off from the gradient",
            "Gumbel noise as log u; noise not clamped",
        ]
    ) { number in
        [
            Check(
                exercise: number, name: "gatherAt-rows", title: "gatherAt picks row x of a[t - 1] per batch element",
                points: 2,
                hint: "Reshape t - 1 to [B, 1, ..., 1] and index a with it and x together.", trial: gatherRows),
            Check(
                exercise: number, name: "gatherAt-last-step", title: "gatherAt works for t = T and for x of any rank",
                hint: "t runs from 1 to T, and step t is stored at index t - 1, so t = T reads the last matrix.",
                trial: gatherLastStep),
            Check(
                exercise: number, name: "posterior-known-x0",
                title: "q(x_{t-1} | x_t, x0) matches Bayes' rule on non-symmetric matrices (t >= 2)", points: 3,
                hint: posteriorHint, trial: posteriorKnown),
            Check(
                exercise: number, name: "posterior-at-t1",
                title: "at t = 1 the posterior is the x0 distribution itself, beside t = T in the same batch",
                points: 2,
                hint:
                    "At t = 1 there is no Q_{1:0}: return the x0 logits (log(one-hot(x0) + eps) for a known x0), for example with where(t .== 1, ...).",
                trial: posteriorFirstStep),
            Check(
                exercise: number, name: "posterior-predicted-x0",
                title: "with predicted x0 logits, the posterior uses p(x0) = softmax(logits)", points: 2,
                hint:
                    "With a predicted x0 the prior of x_{t-1} is the row vector softmax(x0Logits) Q_{1:t-1}, per batch element.",
                trial: posteriorPredicted),
            Check(
                exercise: number, name: "posterior-zero-probabilities",
                title: "absorbing matrices (zero probabilities): finite logits and the right posterior", points: 2,
                hint: "log(0) is -infinity: add eps = D3PMConstants.logEpsilon inside every log of a probability.",
                trial: posteriorWithZeros),
            Check(
                exercise: number, name: "posterior-gradient",
                title: "gradients flow from the posterior back to the x0 logits",
                hint:
                    "Build the posterior from x0Logits with differentiable operations only (no detached(), no rebuilding tensors from scalars).",
                trial: posteriorGradient),
            Check(
                exercise: number, name: "posterior-practical-example",
                title: "the practical's process: K = 3, betas linspace(0.01, 0.05, 4)",
                hint: posteriorHint, trial: posteriorPractical),
            Check(
                exercise: number, name: "gumbel-exact",
                title: "gumbelMaxSample returns argmax(logits - log(-log u)) for the given noise", points: 2,
                hint: "Gumbel noise is -log(-log u), added to the logits; then argmax over the last axis.",
                trial: gumbelExact),
            Check(
                exercise: number, name: "gumbel-clamps-noise",
                title: "noise of exactly 0 or 1 is clamped to [1e-6, 1 - 1e-6]",
                hint:
                    "Clamp u to [eps, 1 - eps] (eps = D3PMConstants.gumbelEpsilon) before the logs, with clamped(min:max:).",
                trial: gumbelClamps),
            Check(
                exercise: number, name: "gumbel-distribution",
                title: "20,000 Gumbel-max samples follow softmax(logits) (chi-square, p = 1e-6)", points: 2,
                hint:
                    "argmax(logits + Gumbel noise) is distributed as softmax(logits) only with Gumbel noise -log(-log u).",
                trial: gumbelDistribution),
        ]
    }

    static let posteriorHint =
        "Posterior logits = log(likelihood of x_t given each x_{t-1} + eps) + log(prior of x_{t-1} given x0 + eps). Which matrix, at which time index, gives each?"
    static let epsHint =
        "log(0) is -infinity, and -infinity - -infinity is NaN: add eps = D3PMConstants.logEpsilon inside every log of a probability."

    // MARK: gatherAt

    static func expectedRows(
        _ a: [BruteForce.Matrix], t: IntTensor, x: IntTensor, shift: Int = -1, column: Bool = false
    ) -> [Double] {
        let perBatch = x.count / t.count
        return (0..<x.count).flatMap { p -> [Double] in
            let s = min(max(t.scalars[p / perBatch] + shift, 0), a.count - 1), i = x.scalars[p]
            return a[s].indices.map { j in column ? a[s][j][i] : a[s][i][j] }
        }
    }

    static func gatherRows(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 201)
        let steps = draw.int(3...6), k = draw.int(3...5), batch = draw.int(2...4)
        let a = draw.uniform([steps, k, k])
        let t = draw.steps(batch, upTo: steps - 1, including: [1])
        let x = draw.classes([batch] + draw.imageShape(), below: k)
        return Trial(.gatherAt(a, t: t, x: x)) { results in
            let rows = try results.value()
            try Expect.shape(
                rows.shape, x.shape + [k], of: "gatherAt(a \(a.shape), t [\(batch)], x \(x.shape))",
                hint: "The result has the shape of x followed by K.")
            let matrices = BruteForce.matrices(a)
            try Expect.close(
                rows.doubles, expectedRows(matrices, t: t, x: x), of: "gatherAt(a, t: \(t.scalars), x)",
                names: .pixels(rows.shape, t: t), atol: 1e-6, rtol: 0, hint: "Row x[b, ...] of the matrix a[t[b] - 1].",
                knownBugs: [
                    KnownBug(
                        values: expectedRows(matrices, t: t, x: x, shift: 0),
                        hint: "You read a[t] instead of a[t - 1]: step t is stored at index t - 1."),
                    KnownBug(
                        values: expectedRows(matrices, t: t, x: x, column: true),
                        hint: "You picked column x instead of row x."),
                ])
        }
    }

    static func gatherLastStep(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 202)
        let steps = draw.int(3...6), k = draw.int(2...5), batch = draw.int(3...5)
        let a = draw.uniform([steps, k, k])
        let t = draw.steps(batch, upTo: steps, including: [steps, 1])
        let x = draw.classes([batch] + Array(draw.imageShape().prefix(draw.int(1...2))), below: k)
        return Trial(.gatherAt(a, t: t, x: x)) { results in
            let rows = try results.value()
            try Expect.shape(
                rows.shape, x.shape + [k], of: "gatherAt(a \(a.shape), t [\(batch)], x \(x.shape))",
                hint: "The result has the shape of x followed by K.")
            try Expect.close(
                rows.doubles, expectedRows(BruteForce.matrices(a), t: t, x: x), of: "gatherAt(a, t: \(t.scalars), x)",
                names: .pixels(rows.shape, t: t), atol: 1e-6, rtol: 0, hint: "Row x[b, ...] of the matrix a[t[b] - 1].")
        }
    }

    // MARK: The posterior

    /// Compares posterior logits with the exact posterior: finite first, then
    /// the t = 1 positions, then the others, each with its own hint.
    static func judgePosterior(
        _ logits: Tensor, expected: [Double], t: IntTensor, what: String, firstStepHint: String? = nil, hint: String,
        knownBugs: [KnownBug] = []
    ) throws {
        let names = EntryNames.pixels(logits.shape, t: t)
        try Expect.finite(logits.doubles, of: "the posterior logits", names: names, hint: epsHint)
        let actual = probabilities(logits)
        let perBatch = logits.count / t.count
        let atFirstStep = actual.indices.map { t.scalars[$0 / perBatch] == 1 }
        func masked(_ values: [Double], _ keep: Bool) -> [Double] {
            values.indices.map { atFirstStep[$0] == keep ? values[$0] : 0 }
        }
        if let firstStepHint {
            try Expect.close(
                masked(actual, true), masked(expected, true), of: "softmax of the posterior logits at t = 1 (\(what))",
                names: names, atol: 1e-4, rtol: 1e-3, hint: firstStepHint)
        }
        try Expect.close(
            masked(actual, false), masked(expected, false), of: "softmax of the posterior logits (\(what))",
            names: names, atol: 1e-4, rtol: 1e-3, hint: hint,
            knownBugs: knownBugs.map { KnownBug(values: masked($0.values, false), hint: $0.hint) })
    }

    /// Known mistakes of both forms of the posterior, from `posterior(mistake)`.
    static func commonPosteriorBugs(_ posterior: (BruteForce.PosteriorMistake) -> [Double]) -> [KnownBug] {
        [
            KnownBug(
                values: posterior(.likelihoodAtPreviousStep),
                hint:
                    "Your likelihood comes from Q_{t-1}: q(x_t | x_{t-1}) is the one step from t - 1 to t, Q_t, at index t - 1."
            ),
            KnownBug(
                values: posterior(.priorFromColumn),
                hint:
                    "Your prior takes columns of Q_{1:t-1}: q(x_{t-1} | x0) is row x0, so the prior is p(x0) Q_{1:t-1} (vecmat), not Q_{1:t-1} p(x0)."
            ),
        ]
    }

    static func posteriorKnown(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 203)
        let process = ForwardProcess.random(&draw)
        let batch = draw.int(4...6)
        let t = draw.steps(batch, upTo: process.numSteps, including: [2, process.numSteps], from: 2)
        let shape = [batch] + draw.imageShape()
        let x0 = draw.classes(shape, below: process.numClasses), xt = draw.classes(shape, below: process.numClasses)
        return Trial(.qPosteriorLogits(x0: x0, xt: xt, t: t, matrices: process.matrices)) { results in
            let logits = try results.value()
            try Expect.shape(
                logits.shape, shape + [process.numClasses],
                of: "qPosteriorLogits(x0 \(shape), xt \(shape), t [\(batch)])")
            try judgePosterior(
                logits, expected: process.knownPosterior(x0: x0, xt: xt, t: t), t: t,
                what: "\(process.description), t = \(t.scalars)",
                hint: posteriorHint,
                knownBugs: [
                    KnownBug(
                        values: process.knownPosterior(x0: x0, xt: xt, t: t, mistake: .cumulativeAtT),
                        hint:
                            "You used Q_{1:t} where Q_{1:t-1} belongs: x_{t-1} is one step before x_t, so its prior given x0 is row x0 of Q_{1:t-1}, at index t - 2."
                    ),
                    KnownBug(
                        values: process.knownPosterior(x0: x0, xt: xt, t: t, mistake: .rowNotColumn),
                        hint:
                            "You used row x_t of Q_t, which is q(x_{t+1} | x_t = .): the likelihood q(x_t | x_{t-1}) is column x_t of Q_t, that is row x_t of Q_t^T (qOnestepTransposed)."
                    ),
                ] + commonPosteriorBugs { process.knownPosterior(x0: x0, xt: xt, t: t, mistake: $0) })
        }
    }

    /// Both forms of the posterior on one batch (a known x0, and predicted
    /// logits), judged against Bayes' rule, the t = 1 positions apart.
    static func bothFormsTrial(
        process: ForwardProcess, x0: IntTensor, xt: IntTensor, t: IntTensor, x0Logits: Tensor
    ) -> Trial {
        let calls: [ExerciseCall] = [
            .qPosteriorLogits(x0: x0, xt: xt, t: t, matrices: process.matrices),
            .qPosteriorLogitsFromPrediction(
                x0Logits: x0Logits, xt: xt, t: t, matrices: process.matrices, gradientWeights: nil),
        ]
        let shape = xt.shape, states = process.numClasses
        return Trial(calls: calls) { results in
            let known = try results.value(0), predicted = try results.value(1)
            let what = "\(process.description), t = \(t.scalars)"
            try Expect.shape(
                known.shape, shape + [states], of: "qPosteriorLogits(x0 \(shape), xt \(shape), t [\(t.count)])")
            try judgePosterior(
                known, expected: process.knownPosterior(x0: x0, xt: xt, t: t), t: t, what: "known x0, \(what)",
                firstStepHint: "At t = 1 the posterior must be one-hot(x0): return log(one-hot(x0) + eps) there.",
                hint: posteriorHint)
            try Expect.shape(
                predicted.shape, shape + [states],
                of: "qPosteriorLogits(x0Logits \(x0Logits.shape), xt \(shape), t [\(t.count)])")
            try judgePosterior(
                predicted, expected: process.predictedPosterior(x0Logits: x0Logits, xt: xt, t: t), t: t,
                what: "predicted x0, \(what)",
                firstStepHint: "At t = 1 return x0Logits themselves.", hint: posteriorHint)
        }
    }

    static func posteriorFirstStep(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 204)
        let process = ForwardProcess.random(&draw)
        let batch = draw.int(3...5)
        let t = draw.steps(batch, upTo: process.numSteps, including: [1, process.numSteps, 1])
        let shape = [batch] + draw.imageShape()
        let x0 = draw.classes(shape, below: process.numClasses), xt = draw.classes(shape, below: process.numClasses)
        let x0Logits = draw.normal(shape + [process.numClasses], std: 1.5)
        return bothFormsTrial(process: process, x0: x0, xt: xt, t: t, x0Logits: x0Logits)
    }

    static func posteriorPredicted(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 205)
        let process = ForwardProcess.random(&draw)
        let batch = draw.int(3...5)
        let t = draw.steps(batch, upTo: process.numSteps, including: [2, process.numSteps], from: 2)
        let shape = [batch, 1] + draw.imageShape()
        let xt = draw.classes(shape, below: process.numClasses)
        let x0Logits = draw.normal(shape + [process.numClasses], std: 2)
        return Trial(
            .qPosteriorLogitsFromPrediction(
                x0Logits: x0Logits, xt: xt, t: t, matrices: process.matrices, gradientWeights: nil)
        ) { results in
            let logits = try results.value()
            try Expect.shape(
                logits.shape, x0Logits.shape,
                of: "qPosteriorLogits(x0Logits \(x0Logits.shape), xt \(shape), t [\(batch)])")
            func posterior(_ mistake: BruteForce.PosteriorMistake?) -> [Double] {
                process.predictedPosterior(x0Logits: x0Logits, xt: xt, t: t, mistake: mistake)
            }
            try judgePosterior(
                logits, expected: posterior(nil), t: t, what: "\(process.description), t = \(t.scalars)",
                hint: posteriorHint,
                knownBugs: [
                    KnownBug(
                        values: posterior(.cumulativeAtT),
                        hint: "You used Q_{1:t} where Q_{1:t-1} belongs (index t - 2)."),
                    KnownBug(
                        values: posterior(.rowNotColumn),
                        hint:
                            "The likelihood q(x_t | x_{t-1}) is a column of Q_t: use row x_t of Q_t^T (qOnestepTransposed)."
                    ),
                    KnownBug(
                        values: posterior(.logitsAsProbabilities),
                        hint: "Turn the x0 logits into probabilities with softmax before multiplying by Q_{1:t-1}."),
                ] + commonPosteriorBugs(posterior))
        }
    }

    static func posteriorWithZeros(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 206)
        let process = ForwardProcess.absorbing(&draw)
        let batch = draw.int(4...6), states = process.numClasses
        let t = draw.steps(batch, upTo: process.numSteps, including: [1, process.numSteps, 2])
        let shape = [batch] + draw.imageShape()
        let x0 = draw.classes(shape, below: states - 1)
        let xt = process.reachableStates(x0: x0, t: t, draw: &draw)
        let x0Logits = draw.normal(shape + [states], std: 1.5)
        return bothFormsTrial(process: process, x0: x0, xt: xt, t: t, x0Logits: x0Logits)
    }

    static func posteriorGradient(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 207)
        let process = ForwardProcess.random(&draw, steps: 3...5, classes: 3...4)
        // t = 1 too, where the posterior is x0Logits themselves: the gradient must reach them there as well.
        let batch = draw.int(3...4), k = process.numClasses
        let t = draw.steps(batch, upTo: process.numSteps, including: [1, process.numSteps, 2])
        let shape = [batch, draw.int(1...3)]
        let xt = draw.classes(shape, below: k)
        let x0Logits = draw.normal(shape + [k])
        // Weights that sum to 0 over the classes: adding a constant to a position's logits changes nothing.
        let raw = BruteForce.rows(draw.uniform(shape + [k])).flatMap { row in
            row.map { $0 - row.reduce(0, +) / Double(k) }
        }
        let weights = Tensor(shape: shape + [k], scalars: raw.map(Float.init))
        let call = ExerciseCall.qPosteriorLogitsFromPrediction(
            x0Logits: x0Logits, xt: xt, t: t, matrices: process.matrices, gradientWeights: weights)
        return Trial(call) { results in
            let value = try results.value()
            try Expect.shape(
                value.shape, x0Logits.shape,
                of: "qPosteriorLogits(x0Logits \(x0Logits.shape), xt \(shape), t [\(batch)])")
            let gradient = try results.gradients(count: 1)[0]
            let w = weights.doubles
            let exact = BruteForce.numericGradient(at: x0Logits.doubles) { flat in
                let rows = stride(from: 0, to: flat.count, by: k).map { Array(flat[$0..<($0 + k)]) }
                let logits = process.posteriorLogits(p0: rows.map(BruteForce.softmax), x0Logits: rows, xt: xt, t: t)
                    .flatMap { $0 }
                return zip(logits, w).reduce(0) { $0 + $1.0 * $1.1 }
            }
            try Expect.close(
                gradient.doubles, exact, of: "d(sum w * posterior logits) / d x0Logits",
                names: .pixels(gradient.shape, t: t),
                atol: 2e-3, rtol: 2e-2,
                hint:
                    "Build the posterior from x0Logits with differentiable tensor operations only (no detached(), no loops over scalars).",
                knownBugs: [
                    KnownBug(
                        values: [Double](repeating: 0, count: exact.count),
                        hint:
                            "No gradient reaches x0Logits: the posterior is cut off from them (a detached() or a tensor rebuilt from scalars)."
                    ),
                    KnownBug(
                        values: exact.indices.map { t.scalars[$0 / (exact.count / batch)] == 1 ? 0 : exact[$0] },
                        hint:
                            "No gradient reaches x0Logits where t = 1: there the posterior is x0Logits itself, and the gradient must flow through that branch too (no detached())."
                    ),
                ])
        }
    }

    static func posteriorPractical(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 208)
        let process = ForwardProcess.uniform(
            classes: 3, betas: (0..<4).map { Double(Float(0.01 + Double($0) * 0.04 / 3)) })
        let batch = draw.int(3...6)
        let t = draw.steps(batch, upTo: 4, including: [4], from: 2)
        let x0 = draw.classes([batch], below: 3), xt = draw.classes([batch], below: 3)
        return Trial(.qPosteriorLogits(x0: x0, xt: xt, t: t, matrices: process.matrices)) { results in
            let logits = try results.value()
            try Expect.shape(
                logits.shape, [batch, 3], of: "qPosteriorLogits(x0 [\(batch)], xt [\(batch)], t [\(batch)])")
            try judgePosterior(
                logits, expected: process.knownPosterior(x0: x0, xt: xt, t: t), t: t,
                what: "x0 = \(x0.scalars), xt = \(xt.scalars), t = \(t.scalars)", hint: posteriorHint)
        }
    }

    // MARK: Gumbel-max

    static func gumbelExact(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 209)
        // 120 to 270 rows: a wrong noise agrees with the right one on many rows, never on all of these.
        let k = draw.int(2...6), shape = [draw.int(60...90), draw.int(2...3)]
        let logits = draw.normal(shape + [k], std: 1.5)
        let noise = draw.uniform(shape + [k])
        return Trial(.gumbelMaxSample(logits, noise: noise)) { results in
            let samples = try results.integers()
            try Expect.shape(
                samples.shape, shape, of: "gumbelMaxSample(logits \(logits.shape), noise \(noise.shape))",
                hint: "The argmax over the last axis removes it.")
            let rows = BruteForce.rows(logits)
            let u = noise.scalars
            let exact = rows.indices.map {
                BruteForce.gumbelArgmax(logits: rows[$0], noise: u[($0 * k)..<($0 * k + k)])
            }
            let logU = rows.indices.map { r in
                BruteForce.argmax(rows[r].indices.map { rows[r][$0] + log(Double(max(u[r * k + $0], 1e-6))) }).index
            }
            let noNoise = rows.map { BruteForce.argmax($0).index }
            try Expect.equal(
                samples.scalars, exact.map(\.index), of: "argmax(logits + Gumbel(noise))", names: .indices(shape),
                skip: Set(exact.indices.filter { exact[$0].margin < 1e-4 }),
                hint: "Gumbel noise is -log(-log u), added to the logits.",
                knownBugs: [
                    (
                        logU,
                        "You added log(u): that is not Gumbel noise, and the samples do not follow softmax(logits). A standard Gumbel variable is -log(-log u)."
                    ),
                    (noNoise, "The noise is not used: the result is the argmax of the logits alone."),
                ])
        }
    }

    static func gumbelClamps(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 210)
        let k = draw.int(3...5), extreme = draw.int(4...8), ordinary = draw.int(8...12)
        var logits: [Float] = [], noise: [Float] = [], winners: [Int] = []
        for row in 0..<extreme {
            let winner = draw.int(0...(k - 1))
            winners.append(winner)
            logits += (0..<k).map { $0 == winner ? Float(draw.double(20...30)) : Float(draw.double(-1...1)) }
            // Even rows: u = 1 on a losing class (+infinity unclamped); odd rows: u = 0 everywhere (-infinity for all).
            let loser = (winner + 1 + draw.int(0...(k - 2))) % k
            noise += (0..<k).map { j in
                row % 2 == 1 ? 0 : (j == loser ? 1 : (j == winner ? 0.5 : Float(draw.double(0.1...0.9))))
            }
        }
        // Rows where u = 1 (or 1 - 1e-5) on a class whose logit is 10 (or 9) below a rival's (u = 1/2) must
        // still win: clamped to 1 - 1e-6, u gives Gumbel noise 13.8 (11.5 for 1 - 1e-5); a wider clamp
        // (1 - 1e-3: 6.9) or a NaN from log(u + eps) > 0 loses.
        let upper = 4
        for row in 0..<upper {
            let winner = draw.int(0...(k - 1)), rival = (winner + 1 + draw.int(0...(k - 2))) % k
            let top = Float(draw.double(-1...1)), gap: Float = row % 2 == 0 ? 10 : 9
            winners.append(winner)
            logits += (0..<k).map { $0 == rival ? top : $0 == winner ? top - gap : top - 8 }
            noise += (0..<k).map { $0 == winner ? (row % 2 == 0 ? 1 : 0.99999) : $0 == rival ? 0.5 : 0.9 }
        }
        // Rows of ordinary logits and noise, where the noise decides: ignoring it does not pass.
        var skip = Set<Int>()
        for row in 0..<ordinary {
            let rowLogits = (0..<k).map { _ in Float(draw.double(-1...1)) },
                rowNoise = (0..<k).map { _ in Float(draw.double(0.02...0.98)) }
            logits += rowLogits
            noise += rowNoise
            let exact = BruteForce.gumbelArgmax(logits: rowLogits.map(Double.init), noise: rowNoise[...])
            winners.append(exact.index)
            if exact.margin < 1e-4 { skip.insert(extreme + upper + row) }
        }
        let batch = extreme + upper + ordinary
        let logitsTensor = Tensor(shape: [batch, k], scalars: logits),
            noiseTensor = Tensor(shape: [batch, k], scalars: noise)
        let noNoise = BruteForce.rows(logitsTensor).map { BruteForce.argmax($0).index }
        return Trial(.gumbelMaxSample(logitsTensor, noise: noiseTensor)) { results in
            let samples = try results.integers()
            try Expect.shape(
                samples.shape, [batch], of: "gumbelMaxSample(logits [\(batch), \(k)], noise [\(batch), \(k)])")
            try Expect.equal(
                samples.scalars, winners,
                of:
                    "samples for noise of exactly 1 or 0 (rows 0 to \(extreme - 1)), u = 1 or 1 - 1e-5 against a rival 10 or 9 logits higher (rows \(extreme) to \(extreme + upper - 1)) and ordinary noise (the others)",
                names: EntryNames { "[row \($0)]" }, skip: skip,
                hint:
                    "Clamp u to [eps, 1 - eps] with eps = D3PMConstants.gumbelEpsilon (1e-6), before the logs: unclamped, u = 1 gives -log(-log 1) = +infinity and u = 0 gives -infinity, whatever the logits say; a wider clamp caps the noise too low (1 - 1e-3 gives 6.9, 1 - 1e-6 gives 13.8); log(u + eps) is NaN at u = 1.",
                knownBugs: [(noNoise, "The noise is not used: the result is the argmax of the logits alone.")])
        }
    }

    static func gumbelDistribution(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 211)
        let k = draw.int(3...5), n = 20_000
        let p = draw.distribution(k)
        let logits = Tensor(shape: [1, k], scalars: p.map { Float(log($0)) + 0.7 }).broadcast(to: [n, k])
        let noise = draw.uniform([n, k])
        return Trial(.gumbelMaxSample(logits, noise: noise)) { results in
            let samples = try results.integers()
            try Expect.shape(samples.shape, [n], of: "gumbelMaxSample(logits [\(n), \(k)], noise [\(n), \(k)])")
            try Expect.classes(samples.scalars, below: k, of: "gumbelMaxSample")
            var counts = [Int](repeating: 0, count: k)
            for s in samples.scalars { counts[s] += 1 }
            let chi2 = Statistics.chiSquare(counts: counts, probabilities: p)
            let critical = Statistics.chiSquareCritical[k - 1]!
            try Expect.that(
                chi2 < critical,
                expected:
                    "frequencies near softmax(logits) = \(Expect.format(p)) (chi-square < \(critical), \(k - 1) degrees of freedom)",
                actual:
                    "frequencies \(Expect.format(counts.map { Double($0) / Double(n) })), chi-square \(Expect.format(chi2))",
                hint: "argmax(logits + g) with g = -log(-log u) follows softmax(logits).")
        }
    }
}
