import D3PM
import NN
import Tensors

/// The settings of the practical's diffusion (docs/Practical.md).
public struct DiffusionConfiguration: Sendable, Equatable {
    /// K, the gray levels.
    public var numClasses = 4
    /// T, the steps.
    public var numSteps = 200
    /// The linear schedule's first and last beta.
    public var betaStart: Float = 1e-3
    public var betaEnd: Float = 0.1
    /// The weight of the hybrid loss and where it goes.
    public var lambda: Float = D3PMConstants.hybridLambda
    public var weighting: LossWeighting = .practical
    /// The corruption and its schedule (the practical: uniform, linear).
    public var corruption: Corruption = .uniform
    public var schedule: NoiseSchedule = .linear

    public init() {}

    /// beta_1 ... beta_T.
    public var betas: Tensor { schedule.betas(steps: numSteps, start: betaStart, end: betaEnd) }

    /// The number of states of x_t: K, or K + 1 with [MASK].
    public var numStates: Int { corruption.states(classes: numClasses) }
}

/// A D3PM built on an implementation of the exercises: the matrices, the
/// training loss and the reverse chain call the exercise functions, so they
/// run on the student's code or on the reference solutions.
///
/// The model predicts x0 over the K gray levels. With absorbing noise x_t
/// has K + 1 states; the model's logits are then extended with a [MASK]
/// logit of -10^4 (probability 0) before they meet the (K + 1)-state matrices.
public struct DiscreteDiffusion {
    public let exercises: D3PMExercises.Type
    public let configuration: DiffusionConfiguration
    public let matrices: TransitionMatrices

    public init(exercises: D3PMExercises.Type, configuration: DiffusionConfiguration = DiffusionConfiguration()) {
        self.exercises = exercises
        self.configuration = configuration
        let onestep = configuration.corruption.onestep(
            classes: configuration.numClasses, betas: configuration.betas, using: exercises)
        matrices = TransitionMatrices(qOnestep: onestep, using: exercises)
    }

    /// The model's x0 logits over the states of x_t.
    public func stateLogits(_ modelLogits: Tensor) -> Tensor {
        guard configuration.numStates > configuration.numClasses else { return modelLogits }
        var maskShape = modelLogits.shape
        maskShape[maskShape.count - 1] = configuration.numStates - configuration.numClasses
        return concat([modelLogits, Tensor.full(maskShape, -1e4)], axis: -1)
    }

    /// x_T drawn from the stationary distribution: all [MASK] for absorbing
    /// noise, uniform over the classes otherwise; `shape` is [B, ...], each
    /// of the B samples drawn from its own stream of `noise`.
    func prior(_ shape: [Int], noise: inout PerSampleNoise) -> IntTensor {
        configuration.corruption == .absorbing
            ? IntTensor.full(shape, configuration.numClasses)
            : noise.integers(Array(shape.dropFirst()), in: 0..<configuration.numClasses)
    }

    /// The hybrid loss of `model` on clean images x0 [B, 1, H, W] with labels y [B]:
    /// t uniform in 1...T per image, x_t = qSample(x0, t), logits = model(x_t, t, y).
    ///
    /// With `labelDropout` p > 0 each image's label is replaced by the
    /// model's "no label" with probability p, so that one network learns both
    /// p(x0 | x_t, y) and p(x0 | x_t): what classifier-free guidance mixes.
    public func loss(
        model: some X0Model, x0: IntTensor, y: IntTensor, labelDropout: Float = 0, using rng: inout RandomGenerator
    ) -> HybridLossTerms {
        loss(
            model: model, x0: x0,
            draw: lossDraw(x0: x0, y: y, noLabel: model.noLabel, labelDropout: labelDropout, using: &rng))
    }

    /// The random part of a training step: each image's t, the uniform noise
    /// that draws its x_t, and its label after dropout.
    struct LossDraw {
        var t: IntTensor
        var noise: Tensor
        var labels: IntTensor

        /// The draws of the images in `rows`.
        func rows(_ rows: Range<Int>) -> LossDraw {
            LossDraw(t: t.rows(rows), noise: noise.slice(axis: 0, rows), labels: labels.rows(rows))
        }
    }

    /// Draws t, the noise and the dropped labels for a batch x0 with labels y.
    func lossDraw(x0: IntTensor, y: IntTensor, noLabel: Int?, labelDropout: Float, using rng: inout RandomGenerator)
        -> LossDraw
    {
        let b = x0.shape[0]
        let t = IntTensor.random([b], in: 1..<(configuration.numSteps + 1), using: &rng)
        let noise = Tensor.uniform(x0.shape + [configuration.numStates], using: &rng)
        var labels = y
        if labelDropout > 0 {
            guard let noLabel else {
                preconditionFailure("loss: label dropout \(labelDropout) needs a model built withNoLabel")
            }
            let dropped = Tensor.uniform([b], using: &rng).scalars.map { $0 < labelDropout }
            labels = IntTensor(zip(y.scalars, dropped).map { $1 ? noLabel : $0 })
        }
        return LossDraw(t: t, noise: noise, labels: labels)
    }

    /// The hybrid loss of `model` on x0 with the randomness `draw`.
    func loss(model: some X0Model, x0: IntTensor, draw: LossDraw) -> HybridLossTerms {
        let xt = exercises.qSample(x0: x0, t: draw.t, noise: draw.noise, qCumulative: matrices.qCumulative)
        let logits = stateLogits(model(xt, draw.t, draw.labels))
        return exercises.hybridLoss(
            modelLogits: logits, x0: x0, xt: xt, t: draw.t, matrices: matrices,
            lambda: configuration.lambda, weighting: configuration.weighting)
    }

    /// The model's x0 logits over the states of x_t, guided with weight `w`:
    /// (1 + w) * logits(x_t, t, y) - w * logits(x_t, t, no label), one
    /// evaluation of the model on the conditional and unconditional halves
    /// of a doubled batch. w = 0 is the conditional model alone; larger w
    /// pushes each sample towards what makes its label likely.
    public func guidedLogits(model: any X0Model, xt: IntTensor, t: IntTensor, y: IntTensor, guidance w: Float)
        -> Tensor
    {
        guard w != 0 else { return stateLogits(model(xt, t, y)) }
        guard let noLabel = model.noLabel else {
            preconditionFailure("guidedLogits: guidance \(w) needs a model trained with label dropout")
        }
        let b = xt.shape[0]
        let both = model(
            IntTensor(shape: [2 * b] + xt.shape.dropFirst(), scalars: xt.scalars + xt.scalars),
            IntTensor(t.scalars + t.scalars), IntTensor(y.scalars + [Int](repeating: noLabel, count: b)))
        let conditional = both.slice(axis: 0, 0..<b), unconditional = both.slice(axis: 0, b..<(2 * b))
        return stateLogits(conditional * (1 + w) - unconditional * w)
    }

    /// The steps a sampler of `jumps` jumps visits, evenly spaced:
    /// T = t_0 > t_1 > ... > t_jumps = 0.
    public func jumpSchedule(_ jumps: Int) -> [Int] {
        precondition(
            (1...configuration.numSteps).contains(jumps),
            "jumpSchedule: 1...\(configuration.numSteps) jumps, got \(jumps)")
        let steps = Double(configuration.numSteps)
        return (0...jumps).map { Int((steps * Double(jumps - $0) / Double(jumps)).rounded()) }
    }

    /// Samples in `jumps` jumps from t = T to 0 (exercise 8's posterior):
    /// at each jump from t to s the model predicts x0, and x_s is drawn from
    /// q(x_s | x_t, x0); the last jump, to s = 0, takes the model's most likely x0.
    /// `guidance` is the weight w of ``guidedLogits(model:xt:t:y:guidance:)``.
    /// The chains run in groups, one per core, each sample with its own
    /// noise (``sampleIndependently(labels:using:progress:chain:)``).
    public func sample(
        model: any X0Model, labels: IntTensor, jumps: Int, guidance: Float = 0, height: Int = 28, width: Int = 28,
        using rng: inout RandomGenerator, progress: (Int) -> Void = { _ in }
    ) -> (samples: IntTensor, frames: [(t: Int, images: IntTensor)]) {
        let k = configuration.numStates
        let schedule = jumpSchedule(jumps)
        return sampleIndependently(labels: labels, using: &rng, progress: progress) { labels, noise, progress in
            let b = labels.count
            var x = prior([b, 1, height, width], noise: &noise)
            var frames: [(t: Int, images: IntTensor)] = [(configuration.numSteps, x)]
            for (t, s) in zip(schedule, schedule.dropFirst()) {
                let x0Logits = guidedLogits(
                    model: model, xt: x, t: IntTensor.full([b], t), y: labels, guidance: guidance)
                if s == 0 {
                    x = x0Logits.argmax(axis: -1)
                } else {
                    let logits = exercises.qSkipPosteriorLogits(
                        x0Logits: x0Logits, xt: x, from: t, to: s, qOnestep: matrices.qOnestep,
                        qCumulative: matrices.qCumulative)
                    x = exercises.gumbelMaxSample(logits, noise: noise.uniform([1, height, width, k]))
                }
                frames.append((s, x))
                progress(t)
            }
            return (x, frames)
        }
    }

    /// Samples in `steps` steps from t = T: the full chain (pSample, every
    /// frameStride-th frame kept) when `steps` is T, otherwise `steps` jumps
    /// with exercise 8's posterior (every jump's frame kept). `progress` is
    /// called after each step or jump with the t it left.
    public func sample(
        model: any X0Model, labels: IntTensor, steps: Int, guidance: Float = 0, frameStride: Int = 40,
        using rng: inout RandomGenerator, progress: (Int) -> Void = { _ in }
    ) -> (samples: IntTensor, frames: [(t: Int, images: IntTensor)]) {
        steps == configuration.numSteps
            ? sample(
                model: model, labels: labels, guidance: guidance, frameStride: frameStride, using: &rng,
                progress: progress)
            : sample(model: model, labels: labels, jumps: steps, guidance: guidance, using: &rng, progress: progress)
    }

    /// Runs the reverse chain from uniform noise at t = T down to t = 1.
    ///
    /// The chains run in groups, one per core, each sample with its own
    /// noise (``sampleIndependently(labels:using:progress:chain:)``): the
    /// samples do not depend on the number of cores.
    ///
    /// - Parameters:
    ///   - labels: the digit of each sample, shape [B].
    ///   - guidance: the weight w of ``guidedLogits(model:xt:t:y:guidance:)`` (0: none).
    ///   - frameStride: keep the images every `frameStride` steps (and x_T and the result).
    ///   - progress: called after each step with the step just taken.
    /// - Returns: the samples [B, 1, H, W] and the kept frames, x_T first, labelled by t (0 for the result).
    public func sample(
        model: any X0Model, labels: IntTensor, guidance: Float = 0, height: Int = 28, width: Int = 28,
        frameStride: Int = 40, using rng: inout RandomGenerator, progress: (Int) -> Void = { _ in }
    ) -> (samples: IntTensor, frames: [(t: Int, images: IntTensor)]) {
        let k = configuration.numStates
        return sampleIndependently(labels: labels, using: &rng, progress: progress) { labels, noise, progress in
            let b = labels.count
            var x = prior([b, 1, height, width], noise: &noise)
            var frames: [(t: Int, images: IntTensor)] = [(configuration.numSteps, x)]
            for step in stride(from: configuration.numSteps, through: 1, by: -1) {
                let t = IntTensor.full([b], step)
                x = exercises.pSample(
                    model: { guidedLogits(model: model, xt: $0, t: $1, y: $2, guidance: guidance) }, xt: x,
                    t: t, y: labels, matrices: matrices, noise: noise.uniform([1, height, width, k]))
                if (step - 1) % frameStride == 0 || step == 1 { frames.append((step - 1, x)) }
                progress(step)
            }
            return (x, frames)
        }
    }
}

/// The model, its optimiser and the step that trains them.
public struct Trainer {
    public var model: any X0Model
    public var optimizer: AdamW
    public let diffusion: DiscreteDiffusion
    public var clipNorm: Float = 1
    /// The fraction of labels replaced by "no label" (see ``DiscreteDiffusion/loss(model:x0:y:labelDropout:using:)``).
    public var labelDropout: Float

    public init(model: any X0Model, optimizer: AdamW, diffusion: DiscreteDiffusion, labelDropout: Float = 0) {
        precondition(
            labelDropout == 0 || model.noLabel != nil,
            "Trainer: label dropout \(labelDropout) needs a model built withNoLabel")
        self.model = model
        self.optimizer = optimizer
        self.diffusion = diffusion
        self.labelDropout = labelDropout
    }

    /// What one step measured.
    public struct StepReport: Sendable {
        public var loss: Float
        public var vb: Float
        public var ce: Float
        public var gradientNorm: Float
    }

    /// One optimisation step on a batch; `seed` fixes its t and noise.
    public mutating func step(x0: IntTensor, y: IntTensor, seed: UInt64) -> StepReport {
        Self.step(
            &model, optimizer: &optimizer, diffusion: diffusion, clipNorm: clipNorm, labelDropout: labelDropout,
            x0: x0, y: y, seed: seed)
    }

    /// The batch is split into one group of images per core, and each group's
    /// loss and gradient are computed on its own core
    /// (``inGroupsPerCore(_:_:)``) and averaged, weighted by the group's
    /// images: the loss is a mean over images, so this is the batch's loss
    /// and gradient (up to rounding), without the cores meeting after every
    /// operation.
    private static func step<Model: X0Model>(
        _ model: inout Model, optimizer: inout AdamW, diffusion: DiscreteDiffusion, clipNorm: Float,
        labelDropout: Float, x0: IntTensor, y: IntTensor, seed: UInt64
    ) -> StepReport {
        var rng = RandomGenerator(seed: seed)
        let b = x0.shape[0]
        let draw = diffusion.lossDraw(
            x0: x0, y: y, noLabel: model.noLabel, labelDropout: labelDropout, using: &rng)
        let current = model
        let groups = inGroupsPerCore(b) { _, rows in
            let part = draw.rows(rows)
            var vb: Float = 0, ce: Float = 0
            let (value, gradient) = valueWithGradient(at: current) { model -> Tensor in
                let terms = diffusion.loss(model: model, x0: x0.rows(rows), draw: part)
                vb = terms.vb.item
                ce = terms.ce.item
                return terms.loss
            }
            return (loss: value.item, vb: vb, ce: ce, gradient: gradient, weight: Float(rows.count) / Float(b))
        }
        var gradient = groups[0].gradient
        if groups.count > 1 {
            let weighted = groups.map { group in group.gradient.namedParameters.map { $0.1 * group.weight } }
            var index = 0
            gradient.visitParameters { _, parameter in
                parameter = weighted.dropFirst().reduce(weighted[0][index]) { $0 + $1[index] }
                index += 1
            }
        }
        let loss = groups.reduce(0) { $0 + $1.loss * $1.weight }
        let vb = groups.reduce(0) { $0 + $1.vb * $1.weight }
        let ce = groups.reduce(0) { $0 + $1.ce * $1.weight }
        let norm = clipGradientNorm(&gradient, maxNorm: clipNorm)
        optimizer.update(&model, along: gradient)
        return StepReport(loss: loss, vb: vb, ce: ce, gradientNorm: norm)
    }
}
