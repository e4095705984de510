import D3PM
import Foundation
import Tensors

/// Exercise 4: forward sampling x_t ~ q(x_t | x0).
enum Exercise4Checks {
    /// The practical's training process: K = 4, T = 200, betas linspace(1e-3, 0.1, 200).
    static let trainingProcess = RandomProcess(uniformClasses: 4, betas: (0..<200).map { 1e-3 + Double($0) * (0.1 - 1e-3) / 199 })

    /// Draws `n` samples of x_t for x0 = `x0Class` at step `t` with the implementation.
    static func samples(_ ex: D3PMExercises.Type, n: Int, x0Class: Int, t: Int, seed: UInt64) -> IntTensor {
        var rng = RandomGenerator(seed: seed)
        let x0 = IntTensor.full([n, 1], x0Class)
        return ex.qSample(x0: x0, t: IntTensor.full([n], t), noise: Tensor.uniform([n, 1, 4], using: &rng),
                          qCumulative: trainingProcess.matrices.qCumulative)
    }

    static let all: [Check] = [
        Check(.exercise4, "qsample-exact", "qSample is one Gumbel-max draw from row x0 of Q_{1:t}, with the given noise",
              points: 3, hint: "logits = log(gatherAt(qCumulative, t, x0) + eps), then one gumbelMaxSample with the given noise.") { ex, seed in
            let process = RandomProcess(seed: seed)
            var rng = RandomGenerator(seed: seed &+ 401)
            let t = IntTensor([1, 4, 2, 3])
            let x0 = IntTensor.random([4, 1, 2, 3], in: 0..<3, using: &rng)
            let noise = Tensor.uniform([4, 1, 2, 3, 3], using: &rng)
            let xt = ex.qSample(x0: x0, t: t, noise: noise, qCumulative: process.matrices.qCumulative)
            try Expect.shape(xt.shape, [4, 1, 2, 3], of: "qSample(x0 [4, 1, 2, 3], t [4], noise [4, 1, 2, 3, 3])",
                             hint: "x_t has the shape of x0: one class per pixel.")
            let eps = Double(D3PMConstants.logEpsilon)
            var exact: [(index: Int, margin: Double)] = [], doubleNoise: [Int] = [], noNoise: [Int] = []
            for position in 0..<x0.count {
                let row = process.cumulative[t.scalars[position / 6] - 1][x0.scalars[position]].map { log($0 + eps) }
                let u = Array(noise.scalars[(position * 3)..<(position * 3 + 3)])
                exact.append(BruteForce.gumbelArgmax(logits: row, noise: u))
                let noisier = zip(row, u).map { $0 + log(Double(max($1, 1e-6))) }
                doubleNoise.append(BruteForce.gumbelArgmax(logits: noisier, noise: u).index)
                noNoise.append(row.indices.max { row[$0] < row[$1] }!)
            }
            try Expect.equal(xt.scalars, exact.map(\.index), of: "argmax(log(row x0 of Q_{1:t} + eps) + Gumbel(noise))",
                             skip: Set(exact.indices.filter { exact[$0].margin < 1e-4 }),
                             hint: "Use row x0 of Q_{1:t} (gatherAt(qCumulative, t, x0)) and one Gumbel-max draw with the given noise.",
                             knownBugs: [(noNoise, "The noise is not used: x_t is the most likely class of row x0 of Q_{1:t}, so it never changes. Sample with gumbelMaxSample."),
                                         (doubleNoise, "You add noise twice (log(noise), then Gumbel noise in the sampler), as the original practical did: the samples are more corrupted than Q_{1:t} says. Draw once.")])
        },
        Check(.exercise4, "qsample-rare-change-at-t1", "at t = 1 a pixel changes with probability (K - 1) beta_1 / K = 0.075% (binomial test, 20,000 draws)",
              points: 2, hint: "At t = 1, x_1 differs from x0 with probability (K - 1) beta_1 / K: one Gumbel-max draw from row x0 of Q_{1:1}.") { ex, seed in
            let n = 20_000
            let xt = samples(ex, n: n, x0Class: 2, t: 1, seed: seed &+ 402)
            try Expect.shape(xt.shape, [n, 1], of: "qSample(x0 [\(n), 1], ...)")
            let changed = xt.scalars.filter { $0 != 2 }.count
            let p = 1 - trainingProcess.cumulative[0][2][2]
            let mean = Double(n) * p, sd = (Double(n) * p * (1 - p)).squareRoot()
            let z = (Double(changed) - mean) / sd
            try Expect.that(abs(z) < 5.5,
                            expected: "about \(Expect.format(mean)) of \(n) pixels changed (|z| < 5.5)",
                            actual: "\(changed) changed (z = \(Expect.format(z)))",
                            hint: changed > Int(mean) ? "Too much corruption: is noise added twice (log(noise) and then Gumbel noise again)? One Gumbel-max draw is enough." : "Too little corruption: is the noise used at all?")
        },
        Check(.exercise4, "qsample-distribution", "at t = 100 the samples follow row x0 of Q_{1:100} (chi-square, p = 1e-6)",
              points: 2, hint: "The empirical distribution of x_t must be row x0 of Q_{1:t}.") { ex, seed in
            let n = 20_000
            let xt = samples(ex, n: n, x0Class: 1, t: 100, seed: seed &+ 403)
            try Expect.shape(xt.shape, [n, 1], of: "qSample(x0 [\(n), 1], ...)")
            var counts = [0, 0, 0, 0]
            for s in xt.scalars where (0..<4).contains(s) { counts[s] += 1 }
            let p = trainingProcess.cumulative[99][1]
            let chi2 = Statistics.chiSquare(counts: counts, probabilities: p)
            try Expect.that(chi2 < Statistics.chiSquareCritical[3]!,
                            expected: "frequencies near \(Expect.format(p)) (chi-square < \(Statistics.chiSquareCritical[3]!), 3 degrees of freedom)",
                            actual: "frequencies \(Expect.format(counts.map { Double($0) / Double(n) })), chi-square \(Expect.format(chi2))",
                            hint: "Sample row x0 of Q_{1:t} once with Gumbel-max; adding noise twice over-corrupts.")
        },
    ]
}
