import D3PM
import Foundation
import Tensors

/// Exercise 5: one step of the reverse chain.
enum Exercise5 {
    static let info = ExerciseInfo(
        number: 5, title: "One reverse step", file: "Exercises/Exercise5+ReverseStep.swift",
        functions: ["pSample"],
        hint: "Model, then posterior, then Gumbel-max. The last step, t = 1, should not be random.",
        knownMistakes: [
            "noise added at t = 1",
            "the argmax of the x0 prediction returned instead of a sample of the posterior",
            "the posterior's argmax everywhere (no sampling at all)",
            "the model asked about step t - 1",
            "the posterior built from the x0 prediction's argmax (a hard x0) instead of its probabilities",
            "the posterior of step t - 1",
            "probabilities handed to gumbelMaxSample where it takes logits",
        ]
    ) { number in
        [
            Check(
                exercise: number, name: "psample-identity-model",
                title:
                    "at t = 1 the step returns the model's x0: x_t for the identity model (the practical's check), x_t + 1 for a shifted one",
                hint: "At t = 1 the posterior is the model's x0 distribution; take its argmax.", trial: identityModel),
            Check(
                exercise: number, name: "psample-no-noise-at-t1",
                title: "at t = 1 the step returns the argmax, whatever the noise", points: 2,
                hint: "Where t == 1 take argmax(logits) instead of the Gumbel-max sample.", trial: noNoiseAtFirstStep),
            Check(
                exercise: number, name: "psample-exact",
                title: "for t >= 2 the step is Gumbel-max on the model's posterior, with the given noise", points: 3,
                hint:
                    "model(xt, t, y) -> qPosteriorLogits(x0Logits: ...) -> gumbelMaxSample(..., noise: noise); argmax where t == 1.",
                trial: exact),
            Check(
                exercise: number, name: "psample-distribution",
                title:
                    "for t >= 2 the samples follow the posterior of the model's x0 probabilities (chi-square, 20,000 draws, p = 1e-6)",
                points: 2,
                hint:
                    "x_{t-1} is one Gumbel-max draw from qPosteriorLogits(x0Logits: model(xt, t, y), ...): the softmax of the prediction, not its argmax, at the step's own t.",
                trial: distribution),
            Check(
                exercise: number, name: "psample-model-inputs",
                title: "the model is called with x_t, t and y as given",
                hint: "Call model(xt, t, y) with the step's own xt, t and y.", trial: modelInputs),
        ]
    }

    /// What a reverse step should return for a model that always predicts
    /// `modelLogits`, with the answers of known mistakes.
    struct Answers {
        var exact: [Int] = [], skip = Set<Int>(), noisyAtFirstStep: [Int] = [], neverSamples: [Int] = []
        var hardPrediction: [Int] = [], previousStep: [Int] = [], probabilitiesAsLogits: [Int] = []
    }

    /// The posterior logits of known mistakes, per position: from the argmax
    /// of the prediction (one-hot x0, as qPosteriorLogits(x0:) takes it) and
    /// at step t - 1.
    static func mistakenPosteriors(process: ForwardProcess, modelLogits: Tensor, xt: IntTensor, t: IntTensor)
        -> (hardPrediction: [[Double]], previousStep: [[Double]])
    {
        let k = process.numClasses, rows = BruteForce.rows(modelLogits)
        let oneHots = rows.map { row in
            let best = BruteForce.argmax(row).index
            return (0..<k).map { $0 == best ? 1.0 : 0 }
        }
        let previous = IntTensor(shape: t.shape, scalars: t.scalars.map { max($0 - 1, 1) })
        return (
            process.posteriorLogits(
                p0: oneHots, x0Logits: oneHots.map { $0.map { log($0 + BruteForce.eps) } }, xt: xt, t: t),
            process.posteriorLogits(p0: rows.map(BruteForce.softmax), x0Logits: rows, xt: xt, t: previous)
        )
    }

    static func answers(process: ForwardProcess, modelLogits: Tensor, xt: IntTensor, t: IntTensor, noise: Tensor)
        -> Answers
    {
        let k = process.numClasses, rows = BruteForce.rows(modelLogits)
        let posterior = process.posteriorLogits(p0: rows.map(BruteForce.softmax), x0Logits: rows, xt: xt, t: t)
        let mistaken = mistakenPosteriors(process: process, modelLogits: modelLogits, xt: xt, t: t)
        let perBatch = xt.count / t.count
        var answers = Answers()
        for position in 0..<xt.count {
            let noiseRow = noise.scalars[(position * k)..<((position + 1) * k)]
            let sampled = BruteForce.gumbelArgmax(logits: posterior[position], noise: noiseRow)
            let best = BruteForce.argmax(posterior[position])
            answers.noisyAtFirstStep.append(sampled.index)
            answers.neverSamples.append(best.index)
            let firstStep = t.scalars[position / perBatch] == 1
            answers.exact.append(firstStep ? best.index : sampled.index)
            if (firstStep ? best.margin : sampled.margin) < 1e-3 { answers.skip.insert(position) }
            func mistake(_ logits: [Double]) -> Int {
                firstStep
                    ? BruteForce.argmax(logits).index : BruteForce.gumbelArgmax(logits: logits, noise: noiseRow).index
            }
            answers.hardPrediction.append(mistake(mistaken.hardPrediction[position]))
            answers.previousStep.append(mistake(mistaken.previousStep[position]))
            answers.probabilitiesAsLogits.append(mistake(BruteForce.softmax(posterior[position])))
        }
        return answers
    }

    static func identityModel(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 501)
        let process = ForwardProcess.random(&draw)
        let k = process.numClasses, batch = draw.int(2...4), shape = [batch, 1] + draw.imageShape()
        let xt = draw.classes(shape, below: k), t = IntTensor.full([batch], 1)
        let y = draw.classes([batch], below: 10)
        let calls: [ExerciseCall] = [
            .pSample(
                model: .identity(numClasses: k), xt: xt, t: t, y: y, matrices: process.matrices,
                noise: draw.uniform(shape + [k])),
            .pSample(
                model: .shifted(numClasses: k), xt: xt, t: t, y: y, matrices: process.matrices,
                noise: draw.uniform(shape + [k])),
        ]
        return Trial(calls: calls) { results in
            for (index, (model, expected)) in [
                ("the identity model", xt), ("a model predicting x_t + 1 (mod K)", (xt + 1) % k),
            ].enumerated() {
                let next = try results.integers(index)
                try Expect.shape(
                    next.shape, shape, of: "pSample(xt \(shape), ...)", hint: "The result has the shape of xt.")
                try Expect.equal(
                    next.scalars, expected.scalars, of: "x_0 for \(model) at t = 1",
                    names: .pixels(shape, t: t, classAxis: false),
                    hint:
                        "At t = 1, return the argmax of the posterior logits (here the model's own logits): no noise.",
                    knownBugs: [
                        (xt.scalars, "You return x_t itself: a reverse step must follow the model's prediction of x0.")
                    ])
            }
        }
    }

    static func noNoiseAtFirstStep(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 502)
        let process = ForwardProcess.random(&draw)
        let k = process.numClasses, batch = draw.int(3...5), shape = [batch, 1] + draw.imageShape()
        let modelLogits = draw.normal(shape + [k], std: 0.5)
        let xt = draw.classes(shape, below: k), t = IntTensor.full([batch], 1)
        let noise = draw.uniform(shape + [k])
        let call = ExerciseCall.pSample(
            model: .constant(modelLogits), xt: xt, t: t, y: draw.classes([batch], below: 10),
            matrices: process.matrices, noise: noise)
        return Trial(call) { results in
            let next = try results.integers()
            try Expect.shape(next.shape, shape, of: "pSample(xt \(shape), ...)")
            let answer = answers(process: process, modelLogits: modelLogits, xt: xt, t: t, noise: noise)
            try Expect.equal(
                next.scalars, answer.exact, of: "argmax of the model's x0 logits at t = 1",
                names: .pixels(shape, t: t, classAxis: false),
                skip: answer.skip, hint: "At t = 1 take the argmax of the posterior logits.",
                knownBugs: [
                    (
                        answer.noisyAtFirstStep,
                        "You add Gumbel noise at t = 1: the last step must be deterministic (the argmax), or the final image keeps a last layer of noise."
                    )
                ])
        }
    }

    static func exact(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 503)
        let process = ForwardProcess.random(&draw)
        // Hundreds of positions: where the noise decides most draws, a wrong
        // posterior still agrees with the right one at many of them.
        let k = process.numClasses, batch = draw.int(4...6), shape = [batch, 1] + draw.largeImageShape()
        let modelLogits = draw.normal(shape + [k], std: 1.5)
        let xt = draw.classes(shape, below: k)
        let t = draw.steps(batch, upTo: process.numSteps, including: [1, 2, process.numSteps])
        let noise = draw.uniform(shape + [k])
        let call = ExerciseCall.pSample(
            model: .constant(modelLogits), xt: xt, t: t, y: draw.classes([batch], below: 10),
            matrices: process.matrices, noise: noise)
        return Trial(call) { results in
            let next = try results.integers()
            try Expect.shape(next.shape, shape, of: "pSample(xt \(shape), ...)")
            let answer = answers(process: process, modelLogits: modelLogits, xt: xt, t: t, noise: noise)
            try Expect.equal(
                next.scalars, answer.exact, of: "one reverse step for t = \(t.scalars), \(process.description)",
                names: .pixels(shape, t: t, classAxis: false), skip: answer.skip,
                hint:
                    "Sample the posterior built from the model's x0 logits (qPosteriorLogits(x0Logits:)), not the x0 logits themselves.",
                knownBugs: [
                    (answer.noisyAtFirstStep, "You add Gumbel noise at t = 1: the last step must be the argmax."),
                    (
                        modelLogits.argmax(axis: -1).scalars,
                        "You return the argmax of the x0 prediction: a reverse step samples x_{t-1} from the posterior."
                    ),
                    (
                        answer.neverSamples,
                        "You take the posterior's argmax at every step: the noise is not used, so the chain cannot draw different digits. Sample with gumbelMaxSample where t > 1."
                    ),
                    (
                        answer.hardPrediction,
                        "You build the posterior from the argmax of the x0 prediction (a hard x0): use its probabilities, qPosteriorLogits(x0Logits: model(xt, t, y), ...), which softmax them."
                    ),
                    (
                        answer.previousStep,
                        "You sample the posterior of step t - 1: x_{t-1} comes from q(x_{t-1} | x_t, x0) at the step's own t."
                    ),
                    (
                        answer.probabilitiesAsLogits,
                        "You hand probabilities to gumbelMaxSample, which takes logits: sample the posterior logits themselves."
                    ),
                ])
        }
    }

    /// 20,000 draws of one pixel's x_{t-1} at one step t >= 2, for a model
    /// that always predicts the same x0 logits: their frequencies against
    /// the posterior's probabilities. Noise-free or otherwise mistaken steps
    /// that an exact comparison could miss on some seeds fail here.
    static func distribution(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 505)
        let process = ForwardProcess.random(&draw)
        let k = process.numClasses, n = 20_000
        let row = (0..<k).map { _ in Float(draw.double(-1.5...1.5)) }
        let modelLogits = Tensor(shape: [1, 1, 1, 1, k], scalars: row).broadcast(to: [n, 1, 1, 1, k])
        // t = 3: later, Q_{1:t-1} has mixed the prior of x0 so far towards its stationary
        // law that a hard x0 and a soft one give nearly the same posterior; at t = 2 the
        // posterior of step t - 1 would be the x0 prediction itself, two mistakes in one.
        let xtClass = draw.int(0...(k - 1)), step = 3
        let xt = IntTensor.full([n, 1, 1, 1], xtClass), t = IntTensor.full([n], step)
        let call = ExerciseCall.pSample(
            model: .constant(modelLogits), xt: xt, t: t, y: draw.classes([n], below: 10),
            matrices: process.matrices, noise: draw.uniform([n, 1, 1, 1, k]))
        // The probabilities of the right step and of known mistakes, for one pixel.
        let one = Tensor(shape: [1, 1, 1, 1, k], scalars: row), x = IntTensor.full([1, 1, 1, 1], xtClass),
            at = IntTensor([step])
        let rows = BruteForce.rows(one)
        let right = BruteForce.softmax(
            process.posteriorLogits(p0: rows.map(BruteForce.softmax), x0Logits: rows, xt: x, t: at)[0])
        let mistaken = mistakenPosteriors(process: process, modelLogits: one, xt: x, t: at)
        let mistakes: [(p: [Double], hint: String)] = [
            (
                BruteForce.softmax(row.map(Double.init)),
                "The frequencies fit softmax of the model's x0 logits: sample the posterior built from them (qPosteriorLogits(x0Logits:)), not the prediction itself."
            ),
            (
                BruteForce.softmax(mistaken.hardPrediction[0]),
                "The frequencies fit the posterior of the prediction's argmax (a hard x0): use the prediction's probabilities, qPosteriorLogits(x0Logits: ...)."
            ),
            (
                BruteForce.softmax(mistaken.previousStep[0]),
                "The frequencies fit the posterior of step t - 1: use the step's own t."
            ),
            (
                BruteForce.softmax(right),
                "The frequencies fit softmax(softmax(logits)): gumbelMaxSample takes logits, not probabilities."
            ),
        ]
        return Trial(call) { results in
            let samples = try results.integers()
            try Expect.shape(samples.shape, [n, 1, 1, 1], of: "pSample(xt [\(n), 1, 1, 1], ...)")
            try Expect.classes(samples.scalars, below: k, of: "pSample")
            var counts = [Int](repeating: 0, count: k)
            for s in samples.scalars { counts[s] += 1 }
            let critical = Statistics.chiSquareCritical[k - 1]!
            let chi2 = Statistics.chiSquare(counts: counts, probabilities: right)
            let named = Statistics.namedMistake(counts: counts, mistakes: mistakes, critical: critical)
            try Expect.that(
                chi2 < critical,
                expected:
                    "at t = \(step), x_t = \(xtClass), frequencies near the posterior \(Expect.format(right)) (chi-square < \(critical), \(k - 1) degrees of freedom), \(process.description)",
                actual:
                    "frequencies \(Expect.format(counts.map { Double($0) / Double(n) })), chi-square \(Expect.format(chi2))",
                hint: named
                    ?? "Sample the posterior built from the model's x0 probabilities at the step's own t, once, with gumbelMaxSample."
            )
        }
    }

    static func modelInputs(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 504)
        let process = ForwardProcess.random(&draw)
        let k = process.numClasses, batch = draw.int(2...4), shape = [batch, 1] + draw.imageShape()
        let xt = draw.classes(shape, below: k)
        let t = draw.steps(batch, upTo: process.numSteps, including: [process.numSteps], from: 2),
            y = draw.classes([batch], below: 10)
        let call = ExerciseCall.pSample(
            model: .constant(Tensor.zeros(shape + [k])), xt: xt, t: t, y: y, matrices: process.matrices,
            noise: draw.uniform(shape + [k]))
        return Trial(call) { results in
            let calls = try results.modelCalls()
            try Expect.that(
                !calls.isEmpty, expected: "a call to the model", actual: "no call",
                hint: "A reverse step asks the model for its x0 prediction: model(xt, t, y).")
            // More than one call is wasteful, not wrong; every call must ask about this step.
            for seen in calls {
                try Expect.that(
                    seen.xt == xt && seen.t == t && seen.y == y,
                    expected: "model(xt, t = \(t.scalars), y = \(y.scalars))",
                    actual:
                        "model(xt\(seen.xt == xt ? "" : " (changed)"), t = \(seen.t.scalars), y = \(seen.y.scalars))",
                    hint: "Pass the step's own t (not t - 1) and the labels y to the model.")
            }
            // And the step returns a sample of x_{t-1}: one class per pixel.
            let sample = try results.integers()
            try Expect.shape(
                sample.shape, shape, of: "pSample(xt \(shape), ...)", hint: "x_{t-1} has the shape of x_t.")
            try Expect.classes(sample.scalars, below: k, of: "pSample")
        }
    }
}
