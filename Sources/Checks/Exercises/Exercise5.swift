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
                exercise: number, name: "psample-model-inputs",
                title: "the model is called once with x_t, t and y as given",
                hint: "Call model(xt, t, y) with the step's own xt, t and y.", trial: modelInputs),
        ]
    }

    /// What a reverse step should return for a model that always predicts
    /// `modelLogits`, with the answers of known mistakes.
    struct Answers {
        var exact: [Int] = [], skip = Set<Int>(), noisyAtFirstStep: [Int] = [], neverSamples: [Int] = []
    }

    static func answers(process: ForwardProcess, modelLogits: Tensor, xt: IntTensor, t: IntTensor, noise: Tensor)
        -> Answers
    {
        let k = process.numClasses, rows = BruteForce.rows(modelLogits)
        let posterior = process.posteriorLogits(p0: rows.map(BruteForce.softmax), x0Logits: rows, xt: xt, t: t)
        let perBatch = xt.count / t.count
        var answers = Answers()
        for position in 0..<xt.count {
            let sampled = BruteForce.gumbelArgmax(
                logits: posterior[position], noise: noise.scalars[(position * k)..<((position + 1) * k)])
            let best = BruteForce.argmax(posterior[position])
            answers.noisyAtFirstStep.append(sampled.index)
            answers.neverSamples.append(best.index)
            let firstStep = t.scalars[position / perBatch] == 1
            answers.exact.append(firstStep ? best.index : sampled.index)
            if (firstStep ? best.margin : sampled.margin) < 1e-3 { answers.skip.insert(position) }
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
        let k = process.numClasses, batch = draw.int(4...6), shape = [batch, 1] + draw.imageShape()
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
                ])
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
                calls.count == 1, expected: "one call to the model", actual: "\(calls.count) calls",
                hint: "One reverse step asks the model once.")
            let seen = calls[0]
            try Expect.that(
                seen.xt == xt && seen.t == t && seen.y == y, expected: "model(xt, t = \(t.scalars), y = \(y.scalars))",
                actual: "model(xt\(seen.xt == xt ? "" : " (changed)"), t = \(seen.t.scalars), y = \(seen.y.scalars))",
                hint: "Pass the step's own t (not t - 1) and the labels y to the model.")
            // And the step returns a sample of x_{t-1}: one class per pixel.
            let sample = try results.integers()
            try Expect.shape(
                sample.shape, shape, of: "pSample(xt \(shape), ...)", hint: "x_{t-1} has the shape of x_t.")
            try Expect.classes(sample.scalars, below: k, of: "pSample")
        }
    }
}
