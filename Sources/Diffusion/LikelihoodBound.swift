import D3PM
import Foundation
import Tensors

/// The variational bound on the negative log-likelihood of images
/// (Austin et al., 2021, eq. 3), in nats per image:
///
///     L_T     = KL(q(x_T | x_0) || p(x_T))                          the prior term
///     L_{t-1} = KL(q(x_{t-1} | x_t, x_0) || p(x_{t-1} | x_t)),  t = 2...T
///     L_0     = -log p(x_0 | x_1)                                    the reconstruction term
///
/// Each L_{t-1} is estimated with one sample x_t ~ q(x_t | x_0) per image,
/// as in the paper.
public struct LikelihoodBound: Sendable {
    /// L_T, averaged over images.
    public var prior: Double
    /// L_{t-1} for t = 2...T (index t - 2), averaged over images.
    public var terms: [Double]
    /// L_0, averaged over images.
    public var reconstruction: Double
    /// The pixels per image.
    public var pixels: Int

    /// The whole bound in nats per image.
    public var total: Double { prior + terms.reduce(0, +) + reconstruction }
    /// The whole bound in bits per dimension (per pixel).
    public var bitsPerDimension: Double { total / (Double(pixels) * log(2)) }

    /// The average of bounds over disjoint sets of images, weighted by their sizes.
    public static func average(_ parts: [(bound: LikelihoodBound, count: Int)]) -> LikelihoodBound {
        let n = Double(parts.reduce(0) { $0 + $1.count })
        func mean(_ value: (LikelihoodBound) -> Double) -> Double {
            parts.reduce(0) { $0 + value($1.bound) * Double($1.count) } / n
        }
        let steps = parts.first?.bound.terms.count ?? 0
        return LikelihoodBound(
            prior: mean(\.prior), terms: (0..<steps).map { t in mean { $0.terms[t] } },
            reconstruction: mean(\.reconstruction), pixels: parts.first?.bound.pixels ?? 0)
    }
}

extension DiscreteDiffusion {
    /// KL(softmax(p) || softmax(q)) summed over classes and pixels, per image [B].
    static func klPerImage(_ pLogits: Tensor, _ qLogits: Tensor) -> [Double] {
        let logP = logSoftmax(pLogits), logQ = logSoftmax(qLogits)
        return sumPerImage(exp(logP) * (logP - logQ))
    }

    /// The sum of each image's values, [B, ...] -> B doubles.
    static func sumPerImage(_ values: Tensor) -> [Double] {
        values.reshaped(values.shape[0], -1).sum(axis: 1).scalars.map(Double.init)
    }

    /// One image's terms of the bound, in nats.
    private struct ImageTerms {
        var prior: Double
        var terms: [Double]  // L_{t-1} for t = 2...T
        var reconstruction: Double
    }

    /// The bound for a batch of images x0 [B, 1, H, W] with labels y [B];
    /// `progress` hears of each step t done.
    ///
    /// Each image has its own noise stream, and the images are evaluated in
    /// groups, one per core, each group's terms on its own core
    /// (``inferenceInGroupsPerCore(_:seededFrom:progress:_:)``); the terms
    /// are added in image order, so the bound does not depend on the number
    /// of cores.
    public func likelihoodBound(
        model: any X0Model, x0: IntTensor, y: IntTensor, using rng: inout RandomGenerator,
        progress: (Int) -> Void = { _ in }
    ) -> LikelihoodBound {
        let b = x0.shape[0], pixels = x0.count / max(b, 1)
        let images = inferenceInGroupsPerCore(b, seededFrom: &rng, progress: progress) { rows, noise, progress in
            boundTerms(model: model, x0: x0.rows(rows), y: y.rows(rows), noise: &noise, progress: progress)
        }.flatMap { $0 }
        func mean(_ value: (ImageTerms) -> Double) -> Double { images.reduce(0) { $0 + value($1) } / Double(b) }
        return LikelihoodBound(
            prior: mean(\.prior), terms: (0..<(configuration.numSteps - 1)).map { t in mean { $0.terms[t] } },
            reconstruction: mean(\.reconstruction), pixels: pixels)
    }

    /// The terms of each image of x0 [B, 1, H, W], x_t drawn from `noise`.
    private func boundTerms(
        model: any X0Model, x0: IntTensor, y: IntTensor, noise: inout PerSampleNoise, progress: (Int) -> Void
    ) -> [ImageTerms] {
        let b = x0.shape[0]
        let states = configuration.numStates, steps = configuration.numSteps
        let eps = D3PMConstants.logEpsilon
        // L_T: the row x0 of Q_{1:T} against the stationary distribution.
        let last = IntTensor.full([b], steps)
        let qT = log(exercises.gatherAt(matrices.qCumulative, t: last, x: x0) + eps)
        let stationary: [Float] =
            configuration.corruption == .absorbing
            ? (0..<states).map { $0 == configuration.numClasses ? 1 : 0 }
            : (0..<states).map { $0 < configuration.numClasses ? 1 / Float(configuration.numClasses) : 0 }
        let prior = Self.klPerImage(qT, log(Tensor(stationary) + eps).broadcast(to: qT.shape))

        func noisy(_ t: Int) -> (IntTensor, IntTensor) {
            let steps = IntTensor.full([b], t)
            let u = noise.uniform(Array(x0.shape.dropFirst()) + [states])
            return (steps, exercises.qSample(x0: x0, t: steps, noise: u, qCumulative: matrices.qCumulative))
        }
        var terms: [[Double]] = []  // [t - 2][image]
        for t in 2...steps {
            let (tt, xt) = noisy(t)
            let truePosterior = exercises.qPosteriorLogits(
                x0: x0, xt: xt, t: tt, qOnestepTransposed: matrices.qOnestepTransposed,
                qCumulative: matrices.qCumulative)
            let modelPosterior = exercises.qPosteriorLogits(
                x0Logits: stateLogits(model(xt, tt, y)), xt: xt, t: tt,
                qOnestepTransposed: matrices.qOnestepTransposed, qCumulative: matrices.qCumulative)
            terms.append(Self.klPerImage(truePosterior, modelPosterior))
            progress(t)
        }
        // L_0: -log p(x0 | x1), the model's x0 prediction at t = 1.
        let (one, x1) = noisy(1)
        let logits = model(x1, one, y)
        // The target's log-probability alone: a product with the one-hot would
        // turn another class's -infinity into NaN.
        let isTarget = oneHot(x0, numClasses: logits.shape[logits.rank - 1]) .> 0
        let reconstruction = Self.sumPerImage(-`where`(isTarget, logSoftmax(logits), Tensor.zeros(logits.shape)))
        progress(1)
        return (0..<b).map { image in
            ImageTerms(
                prior: prior[image], terms: terms.map { $0[image] }, reconstruction: reconstruction[image])
        }
    }
}
