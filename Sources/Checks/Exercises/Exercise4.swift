import D3PM
import Foundation
import Tensors

/// Exercise 4: forward sampling x_t ~ q(x_t | x0).
enum Exercise4 {
    static let info = ExerciseInfo(
        number: 4, title: "Forward sampling", file: "Exercises/Exercise4+ForwardSampling.swift",
        functions: ["qSample"],
        hint: "q(x_t | x0) is one row of one cumulative matrix per pixel: gather it, take logs, and sample it once.",
        knownMistakes: [
            "noise added twice (log u, then Gumbel noise again), as the original practical did",
            "the noise not used at all",
            "probabilities handed to gumbelMaxSample where it takes logits",
            "row x0 of Q_{1:t+1} instead of Q_{1:t}",
            "column x0 of Q_{1:t} (the transposed matrix) instead of row x0",
        ]
    ) { number in
        [
            Check(
                exercise: number, name: "qsample-exact",
                title: "qSample is one Gumbel-max draw from row x0 of Q_{1:t}, with the given noise", points: 3,
                hint:
                    "logits = log(gatherAt(qCumulative, t, x0) + eps), then one gumbelMaxSample with the given noise.",
                trial: exact),
            Check(
                exercise: number, name: "qsample-rare-change-at-t1",
                title: "at t = 1 a pixel changes with probability (K - 1) beta_1 / K (binomial test, 20,000 draws)",
                points: 2,
                hint:
                    "At t = 1, x_1 differs from x0 with probability (K - 1) beta_1 / K: one Gumbel-max draw from row x0 of Q_{1:1}.",
                trial: rareChange),
            Check(
                exercise: number, name: "qsample-distribution",
                title: "mid-chain, the samples follow row x0 of Q_{1:t} (chi-square, p = 1e-6)", points: 2,
                hint: "The empirical distribution of x_t must be row x0 of Q_{1:t}.", trial: distribution),
        ]
    }

    static func exact(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 401)
        let process = ForwardProcess.random(&draw)
        let k = process.numClasses, batch = draw.int(3...5)
        let t = draw.steps(batch, upTo: process.numSteps - 1, including: [1, process.numSteps - 1])
        let shape = [batch, 1] + draw.largeImageShape()
        let x0 = draw.classes(shape, below: k)
        let noise = draw.uniform(shape + [k])
        return Trial(.qSample(x0: x0, t: t, noise: noise, qCumulative: process.matrices.qCumulative)) { results in
            let xt = try results.integers()
            try Expect.shape(
                xt.shape, shape, of: "qSample(x0 \(shape), t [\(batch)], noise \(noise.shape))",
                hint: "x_t has the shape of x0: one class per pixel.")
            let perBatch = x0.count / batch, u = noise.scalars
            var exact: [(index: Int, margin: Double)] = [], doubleNoise: [Int] = [], noNoise: [Int] = [],
                probabilitiesAsLogits: [Int] = [], nextStep: [Int] = [], column: [Int] = [], previousStep: [Int] = []
            for position in 0..<x0.count {
                let step = t.scalars[position / perBatch], row = process.cumulative[step - 1][x0.scalars[position]]
                let logits = row.map { log($0 + BruteForce.eps) }
                let noiseRow = u[(position * k)..<(position * k + k)]
                exact.append(BruteForce.gumbelArgmax(logits: logits, noise: noiseRow))
                doubleNoise.append(
                    BruteForce.gumbelArgmax(
                        logits: zip(logits, noiseRow).map { $0 + log(Double(max($1, 1e-6))) }, noise: noiseRow
                    ).index)
                noNoise.append(BruteForce.argmax(row).index)
                probabilitiesAsLogits.append(BruteForce.gumbelArgmax(logits: row, noise: noiseRow).index)
                nextStep.append(
                    BruteForce.gumbelArgmax(
                        logits: process.cumulative[step][x0.scalars[position]].map { log($0 + BruteForce.eps) },
                        noise: noiseRow
                    ).index)
                // Q_{1:t-1}, the identity at t = 1.
                previousStep.append(
                    step == 1
                        ? x0.scalars[position]
                        : BruteForce.gumbelArgmax(
                            logits: process.cumulative[step - 2][x0.scalars[position]].map {
                                log($0 + BruteForce.eps)
                            }, noise: noiseRow
                        ).index)
                column.append(
                    BruteForce.gumbelArgmax(
                        logits: process.cumulative[step - 1].map { log($0[x0.scalars[position]] + BruteForce.eps) },
                        noise: noiseRow
                    ).index)
            }
            try Expect.equal(
                xt.scalars, exact.map(\.index),
                of: "argmax(log(row x0 of Q_{1:t} + eps) + Gumbel(noise)), \(process.description), t = \(t.scalars)",
                names: .pixels(xt.shape, t: t, classAxis: false),
                skip: Set(exact.indices.filter { exact[$0].margin < 1e-4 }),
                hint:
                    "Use row x0 of Q_{1:t} (gatherAt(qCumulative, t, x0)) and one Gumbel-max draw with exactly the given noise: no other randomness, and no noise added twice.",
                knownBugs: [
                    (
                        noNoise,
                        "The noise is not used: x_t is the most likely class of row x0 of Q_{1:t}, so it never changes. Sample with gumbelMaxSample."
                    ),
                    (
                        doubleNoise,
                        "You add noise twice (log(noise), then Gumbel noise in the sampler), as the original practical did: the samples are more corrupted than Q_{1:t} says. Draw once."
                    ),
                    (
                        probabilitiesAsLogits,
                        "You hand probabilities to gumbelMaxSample, which takes logits: softmax(p) is not p. Take log(p + eps) first."
                    ),
                    (nextStep, "You sampled row x0 of Q_{1:t+1}: step t is stored at index t - 1."),
                    (
                        previousStep,
                        "You sampled row x0 of Q_{1:t-1} (nothing changes at t = 1): q(x_t | x0) is row x0 of Q_{1:t}, stored at index t - 1."
                    ),
                    (
                        column,
                        "You sampled column x0 of Q_{1:t} (the transposed matrix): q(x_t | x0) is row x0, gatherAt(qCumulative, t, x0)."
                    ),
                ])
        }
    }

    /// Draws `n` samples of x_t for x0 = `x0Class` at step `t`.
    static func samplesCall(process: ForwardProcess, n: Int, x0Class: Int, t: Int, draw: inout Draw) -> ExerciseCall {
        .qSample(
            x0: IntTensor.full([n, 1], x0Class), t: IntTensor.full([n], t),
            noise: draw.uniform([n, 1, process.numClasses]),
            qCumulative: process.matrices.qCumulative)
    }

    static func trainingLikeProcess(_ draw: inout Draw) -> ForwardProcess {
        let k = draw.int(3...5), steps = draw.int(50...200)
        // beta_1 large enough that 20,000 draws change about 60 to 150 pixels at t = 1: no noise at all is far off.
        let start = draw.double(0.004...0.01)
        return .uniform(
            classes: k, betas: (0..<steps).map { Double(Float(start + Double($0) * (0.1 - start) / Double(steps - 1))) }
        )
    }

    static func rareChange(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 402)
        let process = trainingLikeProcess(&draw)
        let n = 20_000, x0Class = draw.int(0...(process.numClasses - 1))
        return Trial(samplesCall(process: process, n: n, x0Class: x0Class, t: 1, draw: &draw)) { results in
            let xt = try results.integers()
            try Expect.shape(xt.shape, [n, 1], of: "qSample(x0 [\(n), 1], ...)")
            try Expect.classes(xt.scalars, below: process.numClasses, of: "qSample")
            let changed = xt.scalars.filter { $0 != x0Class }.count
            let p = 1 - process.cumulative[0][x0Class][x0Class]
            let mean = Double(n) * p, sd = (Double(n) * p * (1 - p)).squareRoot()
            let z = (Double(changed) - mean) / sd
            try Expect.that(
                abs(z) < 5.5,
                expected:
                    "about \(Expect.format(mean)) of \(n) pixels changed at t = 1, K = \(process.numClasses) (|z| < 5.5)",
                actual: "\(changed) changed (z = \(Expect.format(z)))",
                hint: Double(changed) > mean
                    ? "Too much corruption: is noise added twice (log(noise) and then Gumbel noise again)? One Gumbel-max draw is enough."
                    : "Too little corruption: is the noise used at all?")
        }
    }

    /// Mid-chain frequencies of x_t against row x0 of Q_{1:t}, for random
    /// non-symmetric matrices (uniform ones are symmetric: a column would
    /// pass for the row).
    static func distribution(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 403)
        let process = ForwardProcess.random(&draw)
        let n = 20_000, k = process.numClasses, x0Class = draw.int(0...(k - 1))
        let t = draw.int(2...(process.numSteps - 1))
        func normalised(_ p: [Double]) -> [Double] { p.map { $0 / p.reduce(0, +) } }
        let mistakes: [(p: [Double], hint: String)] = [
            (
                normalised(process.cumulative[t - 1].map { $0[x0Class] }),
                "The frequencies fit column x0 of Q_{1:t} (the transposed matrix): q(x_t | x0) is row x0."
            ),
            (
                process.cumulative[t][x0Class],
                "The frequencies fit row x0 of Q_{1:t+1}: step t is stored at index t - 1."
            ),
            (
                process.cumulative[t - 2][x0Class],
                "The frequencies fit row x0 of Q_{1:t-1}: step t is stored at index t - 1."
            ),
            (
                BruteForce.softmax(process.cumulative[t - 1][x0Class]),
                "The frequencies fit softmax(p): gumbelMaxSample takes logits, so take log(p + eps) first."
            ),
        ]
        return Trial(samplesCall(process: process, n: n, x0Class: x0Class, t: t, draw: &draw)) { results in
            let xt = try results.integers()
            try Expect.shape(xt.shape, [n, 1], of: "qSample(x0 [\(n), 1], ...)")
            try Expect.classes(xt.scalars, below: k, of: "qSample")
            var counts = [Int](repeating: 0, count: k)
            for s in xt.scalars { counts[s] += 1 }
            let p = process.cumulative[t - 1][x0Class]
            let chi2 = Statistics.chiSquare(counts: counts, probabilities: p)
            let critical = Statistics.chiSquareCritical[k - 1]!
            let named = Statistics.namedMistake(counts: counts, mistakes: mistakes, critical: critical)
            try Expect.that(
                chi2 < critical,
                expected:
                    "at t = \(t), frequencies near row x0 = \(x0Class) of Q_{1:t}, \(Expect.format(p)) (chi-square < \(critical), \(k - 1) degrees of freedom), \(process.description)",
                actual:
                    "frequencies \(Expect.format(counts.map { Double($0) / Double(n) })), chi-square \(Expect.format(chi2))",
                hint: named
                    ?? "Sample row x0 of Q_{1:t} (gatherAt(qCumulative, t, x0)) once with Gumbel-max, taking log(p + eps) first and exactly the given noise."
            )
        }
    }
}
