import D3PM
import Foundation
import Tensors

/// Exercise 5: one step of the reverse chain.
enum Exercise5Checks {
    /// What a reverse step should return for a model that always predicts
    /// `modelLogits`: the argmax of the posterior where t == 1, its
    /// Gumbel-max sample elsewhere; also the answer with noise at t = 1.
    static func expected(process: RandomProcess, modelLogits: Tensor, xt: IntTensor, t: IntTensor, noise: Tensor)
        -> (exact: [Int], skip: Set<Int>, noisyAtT1: [Int]) {
        let k = process.numClasses
        let p0 = BruteForce.rows(modelLogits).map(BruteForce.softmax)
        let posterior = process.posteriors(p0: p0, xt: xt, t: t)
        let perBatch = xt.count / t.count
        var exact: [Int] = [], noisy: [Int] = [], skip = Set<Int>()
        for position in 0..<xt.count {
            let logits = posterior[(position * k)..<((position + 1) * k)].map { log($0 + 1e-30) }
            let u = Array(noise.scalars[(position * k)..<((position + 1) * k)])
            let sampled = BruteForce.gumbelArgmax(logits: logits, noise: u)
            noisy.append(sampled.index)
            if t.scalars[position / perBatch] == 1 {
                let order = logits.indices.sorted { logits[$0] > logits[$1] }
                exact.append(order[0])
                if logits[order[0]] - logits[order[1]] < 1e-4 { skip.insert(position) }
            } else {
                exact.append(sampled.index)
                if sampled.margin < 1e-3 { skip.insert(position) }
            }
        }
        return (exact, skip, noisy)
    }

    static let all: [Check] = [
        Check(.exercise5, "psample-identity-model", "a model that predicts x0 = x_t keeps x_t at t = 1 (the practical's check, made deterministic)",
              hint: "At t = 1 the posterior is the model's x0 distribution; take its argmax.") { ex, seed in
            let process = RandomProcess(seed: seed)
            var rng = RandomGenerator(seed: seed &+ 501)
            let xt = IntTensor.random([3, 1, 2, 3], in: 0..<3, using: &rng)
            let t = IntTensor([1, 1, 1])
            let identity: X0Predictor = { x, _, _ in log(oneHot(x, numClasses: 3) + 1e-9) }
            let next = ex.pSample(model: identity, xt: xt, t: t, y: IntTensor([0, 1, 2]), matrices: process.matrices,
                                  noise: Tensor.uniform([3, 1, 2, 3, 3], using: &rng))
            try Expect.shape(next.shape, [3, 1, 2, 3], of: "pSample(xt [3, 1, 2, 3], ...)", hint: "The result has the shape of xt.")
            try Expect.equal(next.scalars, xt.scalars, of: "x_0 for the identity model at t = 1",
                             hint: "At t = 1, return the argmax of the posterior logits (here the model's own logits): no noise.")
        },
        Check(.exercise5, "psample-no-noise-at-t1", "at t = 1 the step returns the argmax, whatever the noise",
              points: 2, hint: "Where t == 1 take argmax(logits) instead of the Gumbel-max sample.") { ex, seed in
            let process = RandomProcess(seed: seed)
            var rng = RandomGenerator(seed: seed &+ 502)
            let modelLogits = 0.5 * Tensor.normal([4, 1, 2, 3, 3], using: &rng)
            let xt = IntTensor.random([4, 1, 2, 3], in: 0..<3, using: &rng)
            let t = IntTensor([1, 1, 1, 1])
            let noise = Tensor.uniform([4, 1, 2, 3, 3], using: &rng)
            let next = ex.pSample(model: { _, _, _ in modelLogits }, xt: xt, t: t, y: IntTensor([1, 2, 3, 4]), matrices: process.matrices, noise: noise)
            try Expect.shape(next.shape, [4, 1, 2, 3], of: "pSample(xt [4, 1, 2, 3], ...)")
            let answer = expected(process: process, modelLogits: modelLogits, xt: xt, t: t, noise: noise)
            try Expect.equal(next.scalars, answer.exact, of: "argmax of the model's x0 logits at t = 1", skip: answer.skip,
                             hint: "At t = 1 take the argmax of the posterior logits.",
                             knownBugs: [(answer.noisyAtT1, "You add Gumbel noise at t = 1: the last step must be deterministic (the argmax), or the final image keeps a last layer of noise.")])
        },
        Check(.exercise5, "psample-exact", "for t >= 2 the step is Gumbel-max on the model's posterior, with the given noise",
              points: 3, hint: "model(xt, t, y) -> qPosteriorLogits(x0Logits: ...) -> gumbelMaxSample(..., noise: noise); argmax where t == 1.") { ex, seed in
            let process = RandomProcess(seed: seed)
            var rng = RandomGenerator(seed: seed &+ 503)
            let modelLogits = 1.5 * Tensor.normal([4, 1, 2, 3, 3], using: &rng)
            let xt = IntTensor.random([4, 1, 2, 3], in: 0..<3, using: &rng)
            let t = IntTensor([2, 4, 1, 3])
            let noise = Tensor.uniform([4, 1, 2, 3, 3], using: &rng)
            let next = ex.pSample(model: { _, _, _ in modelLogits }, xt: xt, t: t, y: IntTensor([5, 6, 7, 8]), matrices: process.matrices, noise: noise)
            try Expect.shape(next.shape, [4, 1, 2, 3], of: "pSample(xt [4, 1, 2, 3], ...)")
            let answer = expected(process: process, modelLogits: modelLogits, xt: xt, t: t, noise: noise)
            let plainArgmax = modelLogits.argmax(axis: -1).scalars
            try Expect.equal(next.scalars, answer.exact, of: "one reverse step for t = [2, 4, 1, 3]", skip: answer.skip,
                             hint: "Sample the posterior built from the model's x0 logits (qPosteriorLogits(x0Logits:)), not the x0 logits themselves.",
                             knownBugs: [(answer.noisyAtT1, "You add Gumbel noise at t = 1: the last step must be the argmax."),
                                         (plainArgmax, "You return the argmax of the x0 prediction: a reverse step samples x_{t-1} from the posterior.")])
        },
        Check(.exercise5, "psample-model-inputs", "the model is called once with x_t, t and y as given",
              hint: "Call model(xt, t, y) with the step's own xt, t and y.") { ex, seed in
            let process = RandomProcess(seed: seed)
            var rng = RandomGenerator(seed: seed &+ 504)
            let xt = IntTensor.random([2, 1, 3, 2], in: 0..<3, using: &rng)
            let t = IntTensor([3, 2]), y = IntTensor([7, 4])
            var calls: [(IntTensor, IntTensor, IntTensor)] = []
            _ = ex.pSample(model: { x, s, label in calls.append((x, s, label)); return Tensor.zeros(x.shape + [3]) },
                           xt: xt, t: t, y: y, matrices: process.matrices, noise: Tensor.uniform([2, 1, 3, 2, 3], using: &rng))
            try Expect.that(calls.count == 1, expected: "one call to the model", actual: "\(calls.count) calls",
                            hint: "One reverse step asks the model once.")
            let (x, s, label) = calls[0]
            try Expect.that(x == xt && s == t && label == y, expected: "model(xt, t = \(t.scalars), y = \(y.scalars))",
                            actual: "model(xt\(x == xt ? "" : " (changed)"), t = \(s.scalars), y = \(label.scalars))",
                            hint: "Pass the step's own t (not t - 1) and the labels y to the model.")
        },
    ]
}
