import D3PM
import Solutions
import Tensors

/// A wrong implementation: the reference solutions with one function
/// replaced by a known mistake. Each mutant overrides only what it breaks.
protocol Mutant: D3PMExercises {}

extension Mutant {
    static var name: String { "\(Self.self)" }
    static func makeUniformQOnestep(numClasses: Int, betas: Tensor) -> Tensor {
        ReferenceSolutions.makeUniformQOnestep(numClasses: numClasses, betas: betas)
    }
    static func cumulativeQ(_ qOnestep: Tensor) -> Tensor { ReferenceSolutions.cumulativeQ(qOnestep) }
    static func makeAbsorbingQOnestep(numClasses: Int, betas: Tensor) -> Tensor {
        ReferenceSolutions.makeAbsorbingQOnestep(numClasses: numClasses, betas: betas)
    }
    static func makeGaussianQOnestep(numClasses: Int, betas: Tensor) -> Tensor {
        ReferenceSolutions.makeGaussianQOnestep(numClasses: numClasses, betas: betas)
    }
    static func gatherAt(_ a: Tensor, t: IntTensor, x: IntTensor) -> Tensor {
        ReferenceSolutions.gatherAt(a, t: t, x: x)
    }
    static func qPosteriorLogits(
        x0: IntTensor, xt: IntTensor, t: IntTensor, qOnestepTransposed: Tensor, qCumulative: Tensor
    ) -> Tensor {
        ReferenceSolutions.qPosteriorLogits(
            x0: x0, xt: xt, t: t, qOnestepTransposed: qOnestepTransposed, qCumulative: qCumulative)
    }
    static func qPosteriorLogits(
        x0Logits: Tensor, xt: IntTensor, t: IntTensor, qOnestepTransposed: Tensor, qCumulative: Tensor
    ) -> Tensor {
        ReferenceSolutions.qPosteriorLogits(
            x0Logits: x0Logits, xt: xt, t: t, qOnestepTransposed: qOnestepTransposed, qCumulative: qCumulative)
    }
    static func gumbelMaxSample(_ logits: Tensor, noise: Tensor) -> IntTensor {
        ReferenceSolutions.gumbelMaxSample(logits, noise: noise)
    }
    static func vb(_ logits1: Tensor, _ logits2: Tensor) -> Tensor { ReferenceSolutions.vb(logits1, logits2) }
    static func hybridLoss(
        modelLogits: Tensor, x0: IntTensor, xt: IntTensor, t: IntTensor, matrices: TransitionMatrices, lambda: Float,
        weighting: LossWeighting
    ) -> HybridLossTerms {
        ReferenceSolutions.hybridLoss(
            modelLogits: modelLogits, x0: x0, xt: xt, t: t, matrices: matrices, lambda: lambda, weighting: weighting)
    }
    static func qSample(x0: IntTensor, t: IntTensor, noise: Tensor, qCumulative: Tensor) -> IntTensor {
        ReferenceSolutions.qSample(x0: x0, t: t, noise: noise, qCumulative: qCumulative)
    }
    static func qSkipPosteriorLogits(
        x0Logits: Tensor, xt: IntTensor, from t: Int, to s: Int, qOnestep: Tensor, qCumulative: Tensor
    ) -> Tensor {
        ReferenceSolutions.qSkipPosteriorLogits(
            x0Logits: x0Logits, xt: xt, from: t, to: s, qOnestep: qOnestep, qCumulative: qCumulative)
    }
    static func pSample(
        model: X0Predictor, xt: IntTensor, t: IntTensor, y: IntTensor, matrices: TransitionMatrices, noise: Tensor
    ) -> IntTensor {
        ReferenceSolutions.pSample(model: model, xt: xt, t: t, y: y, matrices: matrices, noise: noise)
    }
}

/// The posterior written out, with switches for the classic mistakes.
func mutatedPosterior(
    p0: Tensor, x0Logits: Tensor, xt: IntTensor, t: IntTensor, qOnestepTransposed: Tensor, qCumulative: Tensor,
    cumulativeShift: Int = 0, transpose: Bool = true, handleFirstStep: Bool = true,
    eps: Float = D3PMConstants.logEpsilon
) -> Tensor {
    let onestep = transpose ? qOnestepTransposed : qOnestepTransposed.transposed()
    let likelihood = ReferenceSolutions.gatherAt(onestep, t: t, x: xt)
    let steps = qCumulative.shape[0]
    let previous = IntTensor(
        shape: t.shape, scalars: t.scalars.map { min(max($0 - 2 + cumulativeShift, 0), steps - 1) })
    let logits = log(likelihood + eps) + log(vecmat(p0, qCumulative[previous]) + eps)
    guard handleFirstStep else { return logits }
    return `where`(t.perBatch(rank: xt.rank + 1) .== 1, x0Logits, logits)
}

// MARK: - Exercise 1

enum DiagonalOneMinusBeta: Mutant {
    static func makeUniformQOnestep(numClasses: Int, betas: Tensor) -> Tensor {
        let b = betas.reshaped(-1, 1, 1)
        let eye = Tensor.eye(numClasses)
        return (1 - b) * eye + b / Float(numClasses) * (1 - eye)
    }
}

enum CumulativeReversed: Mutant {
    static func cumulativeQ(_ qOnestep: Tensor) -> Tensor {
        var products = [qOnestep[0]]
        for t in 1..<qOnestep.shape[0] { products.append(matmul(qOnestep[t], products[t - 1])) }
        return stack(products)
    }
}

enum CumulativeStartsAtIdentity: Mutant {
    static func cumulativeQ(_ qOnestep: Tensor) -> Tensor {
        var products = [Tensor.eye(qOnestep.shape[1])]
        for t in 1..<qOnestep.shape[0] { products.append(matmul(products[t - 1], qOnestep[t - 1])) }
        return stack(products)
    }
}

/// beta_t spread over the K - 1 other classes.
enum UniformOverOtherClasses: Mutant {
    static func makeUniformQOnestep(numClasses: Int, betas: Tensor) -> Tensor {
        let b = betas.reshaped(-1, 1, 1)
        let eye = Tensor.eye(numClasses)
        return (1 - b) * eye + b / Float(numClasses - 1) * (1 - eye)
    }
}

/// Q_t built from beta_{t+1} (the last from beta_T).
enum BetasReadOneTooFar: Mutant {
    static func makeUniformQOnestep(numClasses: Int, betas: Tensor) -> Tensor {
        let shifted = Tensor(Array(betas.scalars.dropFirst()) + [betas.scalars.last!])
        return ReferenceSolutions.makeUniformQOnestep(numClasses: numClasses, betas: shifted)
    }
}

// MARK: - Exercise 2

enum GatherAtOffByOne: Mutant {
    static func gatherAt(_ a: Tensor, t: IntTensor, x: IntTensor) -> Tensor { a[t.perBatch(rank: x.rank), x] }
}

enum GatherAtColumn: Mutant {
    static func gatherAt(_ a: Tensor, t: IntTensor, x: IntTensor) -> Tensor {
        ReferenceSolutions.gatherAt(a.transposed(), t: t, x: x)
    }
}

enum PosteriorUsesCumulativeT: Mutant {
    static func qPosteriorLogits(
        x0: IntTensor, xt: IntTensor, t: IntTensor, qOnestepTransposed: Tensor, qCumulative: Tensor
    ) -> Tensor {
        let p0 = oneHot(x0, numClasses: qCumulative.shape[1])
        return mutatedPosterior(
            p0: p0, x0Logits: log(p0 + 1e-9), xt: xt, t: t, qOnestepTransposed: qOnestepTransposed,
            qCumulative: qCumulative, cumulativeShift: 1)
    }
}

enum PosteriorWithoutTranspose: Mutant {
    static func qPosteriorLogits(
        x0: IntTensor, xt: IntTensor, t: IntTensor, qOnestepTransposed: Tensor, qCumulative: Tensor
    ) -> Tensor {
        let p0 = oneHot(x0, numClasses: qCumulative.shape[1])
        return mutatedPosterior(
            p0: p0, x0Logits: log(p0 + 1e-9), xt: xt, t: t, qOnestepTransposed: qOnestepTransposed,
            qCumulative: qCumulative, transpose: false)
    }
}

enum PosteriorMissingFirstStep: Mutant {
    static func qPosteriorLogits(
        x0: IntTensor, xt: IntTensor, t: IntTensor, qOnestepTransposed: Tensor, qCumulative: Tensor
    ) -> Tensor {
        let p0 = oneHot(x0, numClasses: qCumulative.shape[1])
        return mutatedPosterior(
            p0: p0, x0Logits: log(p0 + 1e-9), xt: xt, t: t, qOnestepTransposed: qOnestepTransposed,
            qCumulative: qCumulative, handleFirstStep: false)
    }
    static func qPosteriorLogits(
        x0Logits: Tensor, xt: IntTensor, t: IntTensor, qOnestepTransposed: Tensor, qCumulative: Tensor
    ) -> Tensor {
        mutatedPosterior(
            p0: softmax(x0Logits), x0Logits: x0Logits, xt: xt, t: t, qOnestepTransposed: qOnestepTransposed,
            qCumulative: qCumulative, handleFirstStep: false)
    }
}

enum PosteriorWithoutSoftmax: Mutant {
    static func qPosteriorLogits(
        x0Logits: Tensor, xt: IntTensor, t: IntTensor, qOnestepTransposed: Tensor, qCumulative: Tensor
    ) -> Tensor {
        mutatedPosterior(
            p0: x0Logits.clamped(min: 0), x0Logits: x0Logits, xt: xt, t: t, qOnestepTransposed: qOnestepTransposed,
            qCumulative: qCumulative)
    }
}

enum PosteriorDetached: Mutant {
    static func qPosteriorLogits(
        x0Logits: Tensor, xt: IntTensor, t: IntTensor, qOnestepTransposed: Tensor, qCumulative: Tensor
    ) -> Tensor {
        ReferenceSolutions.qPosteriorLogits(
            x0Logits: x0Logits.detached(), xt: xt, t: t, qOnestepTransposed: qOnestepTransposed,
            qCumulative: qCumulative)
    }
}

enum GumbelFromLogU: Mutant {
    static func gumbelMaxSample(_ logits: Tensor, noise: Tensor) -> IntTensor {
        (logits + log(noise.clamped(min: 1e-6, max: 1 - 1e-6))).argmax(axis: -1)
    }
}

enum GumbelWithoutClamp: Mutant {
    static func gumbelMaxSample(_ logits: Tensor, noise: Tensor) -> IntTensor {
        (logits - log(-log(noise))).argmax(axis: -1)
    }
}

/// The noise shifted by eps inside the log instead of clamped: u = 1 gives NaN.
enum GumbelEpsInsideLog: Mutant {
    static func gumbelMaxSample(_ logits: Tensor, noise: Tensor) -> IntTensor {
        (logits - log(-log(noise + D3PMConstants.gumbelEpsilon))).argmax(axis: -1)
    }
}

/// A clamp to [1e-3, 1 - 1e-3]: the noise of u near 1 capped at 6.9.
enum GumbelWideClamp: Mutant {
    static func gumbelMaxSample(_ logits: Tensor, noise: Tensor) -> IntTensor {
        (logits - log(-log(noise.clamped(min: 1e-3, max: 1 - 1e-3)))).argmax(axis: -1)
    }
}

/// The t = 1 branch detached: no gradient reaches x0Logits there.
enum PosteriorFirstStepDetached: Mutant {
    static func qPosteriorLogits(
        x0Logits: Tensor, xt: IntTensor, t: IntTensor, qOnestepTransposed: Tensor, qCumulative: Tensor
    ) -> Tensor {
        let logits = ReferenceSolutions.qPosteriorLogits(
            x0Logits: x0Logits, xt: xt, t: t, qOnestepTransposed: qOnestepTransposed, qCumulative: qCumulative)
        return `where`(t.perBatch(rank: xt.rank + 1) .== 1, x0Logits.detached(), logits)
    }
}

/// Samples that are no class at all: -1 everywhere (a frequency test that
/// counted classes only would see nothing to reject).
enum SamplesOutsideTheClasses: Mutant {
    static func gumbelMaxSample(_ logits: Tensor, noise: Tensor) -> IntTensor {
        let shape = Array(logits.shape.dropLast())
        return IntTensor(shape: shape, scalars: [Int](repeating: -1, count: shape.reduce(1, *)))
    }
    static func qSample(x0: IntTensor, t: IntTensor, noise: Tensor, qCumulative: Tensor) -> IntTensor {
        IntTensor(shape: x0.shape, scalars: [Int](repeating: -1, count: x0.count))
    }
}

/// [MASK] that leaks: its row sends beta_t of its mass to class 0 (the
/// last step's beta_T = 1 hides it in Q_{1:T} under the inverse schedule).
enum MaskLeaks: Mutant {
    static func makeAbsorbingQOnestep(numClasses: Int, betas: Tensor) -> Tensor {
        let q = ReferenceSolutions.makeAbsorbingQOnestep(numClasses: numClasses, betas: betas)
        let states = numClasses + 1
        var scalars = q.scalars
        for (step, beta) in betas.scalars.enumerated() {
            let row = (step * states + numClasses) * states
            scalars[row] = beta
            scalars[row + numClasses] = 1 - beta
        }
        return Tensor(shape: q.shape, scalars: scalars)
    }
}

// MARK: - Exercise 3

enum KLSwapped: Mutant {
    static func vb(_ logits1: Tensor, _ logits2: Tensor) -> Tensor { ReferenceSolutions.vb(logits2, logits1) }
}

enum KLSignFlipped: Mutant {
    static func vb(_ logits1: Tensor, _ logits2: Tensor) -> Tensor { -ReferenceSolutions.vb(logits1, logits2) }
}

enum KLSummedOverPositions: Mutant {
    static func vb(_ logits1: Tensor, _ logits2: Tensor) -> Tensor {
        let logP = logSoftmax(logits1), logQ = logSoftmax(logits2)
        return (exp(logP) * (logP - logQ)).sum()
    }
}

enum VBCutOffFromGradient: Mutant {
    static func hybridLoss(
        modelLogits: Tensor, x0: IntTensor, xt: IntTensor, t: IntTensor, matrices: TransitionMatrices, lambda: Float,
        weighting: LossWeighting
    ) -> HybridLossTerms {
        let terms = ReferenceSolutions.hybridLoss(
            modelLogits: modelLogits, x0: x0, xt: xt, t: t, matrices: matrices, lambda: lambda, weighting: weighting)
        return reweighted(terms, vb: terms.vb.detached(), lambda: lambda, weighting: weighting)
    }
}

/// The KL summed over axis 1, which is the class axis only for rank-2 inputs.
enum VBSummedOverAxisOne: Mutant {
    static func vb(_ logits1: Tensor, _ logits2: Tensor) -> Tensor {
        let logP = logSoftmax(logits1), logQ = logSoftmax(logits2)
        return (exp(logP) * (logP - logQ)).sum(axis: 1).mean()
    }
}

/// Under .practical, the VB term as a plain number (.item): no gradient through it.
enum PracticalVBAsNumber: Mutant {
    static func hybridLoss(
        modelLogits: Tensor, x0: IntTensor, xt: IntTensor, t: IntTensor, matrices: TransitionMatrices, lambda: Float,
        weighting: LossWeighting
    ) -> HybridLossTerms {
        let terms = ReferenceSolutions.hybridLoss(
            modelLogits: modelLogits, x0: x0, xt: xt, t: t, matrices: matrices, lambda: lambda, weighting: weighting)
        guard weighting == .practical else { return terms }
        return HybridLossTerms(loss: terms.ce + lambda * Tensor(terms.vb.item), vb: terms.vb, ce: terms.ce)
    }
}

enum WeightingReversed: Mutant {
    static func hybridLoss(
        modelLogits: Tensor, x0: IntTensor, xt: IntTensor, t: IntTensor, matrices: TransitionMatrices, lambda: Float,
        weighting: LossWeighting
    ) -> HybridLossTerms {
        ReferenceSolutions.hybridLoss(
            modelLogits: modelLogits, x0: x0, xt: xt, t: t, matrices: matrices, lambda: lambda,
            weighting: weighting == .paper ? .practical : .paper)
    }
}

/// `terms` with the VB term `vb` and the loss weighted again from it.
func reweighted(_ terms: HybridLossTerms, vb: Tensor, lambda: Float, weighting: LossWeighting) -> HybridLossTerms {
    HybridLossTerms(
        loss: weighting == .practical ? lambda * vb + terms.ce : vb + lambda * terms.ce, vb: vb, ce: terms.ce)
}

// MARK: - Exercise 4

/// The original practical's qSample: log(noise) added, then a second, independent Gumbel draw.
enum QSampleDoubleNoise: Mutant {
    static func qSample(x0: IntTensor, t: IntTensor, noise: Tensor, qCumulative: Tensor) -> IntTensor {
        let logits = log(gatherAt(qCumulative, t: t, x: x0) + 1e-9) + log(noise.clamped(min: 1e-6))
        return gumbelMaxSample(logits, noise: noise)
    }
}

/// The original practical's form: log(noise), then a second, independent Gumbel draw.
enum QSampleSecondIndependentDraw: Mutant {
    static func qSample(x0: IntTensor, t: IntTensor, noise: Tensor, qCumulative: Tensor) -> IntTensor {
        let logits = log(gatherAt(qCumulative, t: t, x: x0) + 1e-9) + log(noise.clamped(min: 1e-6))
        var rng = RandomGenerator(seed: UInt64(noise.scalars.prefix(4).reduce(0) { $0 + $1 } * 1e6))
        return gumbelMaxSample(logits, noise: Tensor.uniform(noise.shape, using: &rng))
    }
}

/// Probabilities handed to the sampler as if they were logits.
enum QSampleProbabilitiesAsLogits: Mutant {
    static func qSample(x0: IntTensor, t: IntTensor, noise: Tensor, qCumulative: Tensor) -> IntTensor {
        gumbelMaxSample(gatherAt(qCumulative, t: t, x: x0), noise: noise)
    }
}

enum QSampleWithoutNoise: Mutant {
    static func qSample(x0: IntTensor, t: IntTensor, noise: Tensor, qCumulative: Tensor) -> IntTensor {
        gatherAt(qCumulative, t: t, x: x0).argmax(axis: -1)
    }
}

/// Column x0 of Q_{1:t} (the transposed matrix) instead of row x0.
enum QSampleColumn: Mutant {
    static func qSample(x0: IntTensor, t: IntTensor, noise: Tensor, qCumulative: Tensor) -> IntTensor {
        let logits = log(gatherAt(qCumulative.transposed(), t: t, x: x0) + D3PMConstants.logEpsilon)
        return gumbelMaxSample(logits, noise: noise)
    }
}

/// A posterior without eps inside its logs: -infinity where a probability is 0.
enum PosteriorWithoutEps: Mutant {
    static func qPosteriorLogits(
        x0: IntTensor, xt: IntTensor, t: IntTensor, qOnestepTransposed: Tensor, qCumulative: Tensor
    ) -> Tensor {
        let p0 = oneHot(x0, numClasses: qCumulative.shape[1])
        return mutatedPosterior(
            p0: p0, x0Logits: log(p0), xt: xt, t: t, qOnestepTransposed: qOnestepTransposed, qCumulative: qCumulative,
            eps: 0)
    }
    static func qPosteriorLogits(
        x0Logits: Tensor, xt: IntTensor, t: IntTensor, qOnestepTransposed: Tensor, qCumulative: Tensor
    ) -> Tensor {
        mutatedPosterior(
            p0: softmax(x0Logits), x0Logits: x0Logits, xt: xt, t: t, qOnestepTransposed: qOnestepTransposed,
            qCumulative: qCumulative, eps: 0)
    }
}

/// The KL of each image summed over its pixels, then averaged over the batch.
enum VBSummedOverPixels: Mutant {
    static func hybridLoss(
        modelLogits: Tensor, x0: IntTensor, xt: IntTensor, t: IntTensor, matrices: TransitionMatrices, lambda: Float,
        weighting: LossWeighting
    ) -> HybridLossTerms {
        let terms = ReferenceSolutions.hybridLoss(
            modelLogits: modelLogits, x0: x0, xt: xt, t: t, matrices: matrices, lambda: lambda, weighting: weighting)
        return reweighted(terms, vb: terms.vb * Float(x0.count / t.count), lambda: lambda, weighting: weighting)
    }
}

/// The posteriors of step t - 1 in the loss.
enum VBAtPreviousStep: Mutant {
    static func hybridLoss(
        modelLogits: Tensor, x0: IntTensor, xt: IntTensor, t: IntTensor, matrices: TransitionMatrices, lambda: Float,
        weighting: LossWeighting
    ) -> HybridLossTerms {
        let previous = IntTensor(shape: t.shape, scalars: t.scalars.map { max($0 - 1, 1) })
        var terms = ReferenceSolutions.hybridLoss(
            modelLogits: modelLogits, x0: x0, xt: xt, t: previous, matrices: matrices, lambda: lambda,
            weighting: weighting)
        terms.ce = crossEntropy(modelLogits, targets: x0)
        return reweighted(terms, vb: terms.vb, lambda: lambda, weighting: weighting)
    }
}

// MARK: - Exercise 5

enum PSampleNoiseAtFirstStep: Mutant {
    static func pSample(
        model: X0Predictor, xt: IntTensor, t: IntTensor, y: IntTensor, matrices: TransitionMatrices, noise: Tensor
    ) -> IntTensor {
        let logits = qPosteriorLogits(
            x0Logits: model(xt, t, y), xt: xt, t: t, qOnestepTransposed: matrices.qOnestepTransposed,
            qCumulative: matrices.qCumulative)
        return gumbelMaxSample(logits, noise: noise)
    }
}

enum PSampleReturnsX0Argmax: Mutant {
    static func pSample(
        model: X0Predictor, xt: IntTensor, t: IntTensor, y: IntTensor, matrices: TransitionMatrices, noise: Tensor
    ) -> IntTensor {
        model(xt, t, y).argmax(axis: -1)
    }
}

/// Never samples: the posterior's argmax at every step.
enum PSampleNeverSamples: Mutant {
    static func pSample(
        model: X0Predictor, xt: IntTensor, t: IntTensor, y: IntTensor, matrices: TransitionMatrices, noise: Tensor
    ) -> IntTensor {
        qPosteriorLogits(
            x0Logits: model(xt, t, y), xt: xt, t: t, qOnestepTransposed: matrices.qOnestepTransposed,
            qCumulative: matrices.qCumulative
        ).argmax(axis: -1)
    }
}

enum PSampleModelSeesPreviousStep: Mutant {
    static func pSample(
        model: X0Predictor, xt: IntTensor, t: IntTensor, y: IntTensor, matrices: TransitionMatrices, noise: Tensor
    ) -> IntTensor {
        ReferenceSolutions.pSample(
            model: { x, s, label in model(x, s - 1, label) }, xt: xt, t: t, y: y, matrices: matrices, noise: noise)
    }
}

/// A reverse step's result from its posterior logits: their argmax where t = 1, `sampled` elsewhere.
func reverseStep(_ logits: Tensor, xt: IntTensor, t: IntTensor, sampled: IntTensor) -> IntTensor {
    `where`(t.perBatch(rank: xt.rank) .== 1, logits.argmax(axis: -1), sampled)
}

/// The posterior of a hard x0: qPosteriorLogits(x0:) of the prediction's argmax.
enum PSampleHardPrediction: Mutant {
    static func pSample(
        model: X0Predictor, xt: IntTensor, t: IntTensor, y: IntTensor, matrices: TransitionMatrices, noise: Tensor
    ) -> IntTensor {
        let logits = qPosteriorLogits(
            x0: model(xt, t, y).argmax(axis: -1), xt: xt, t: t, qOnestepTransposed: matrices.qOnestepTransposed,
            qCumulative: matrices.qCumulative)
        return reverseStep(logits, xt: xt, t: t, sampled: gumbelMaxSample(logits, noise: noise))
    }
}

/// The posterior of step t - 1 (the model still asked about step t).
enum PSamplePreviousPosterior: Mutant {
    static func pSample(
        model: X0Predictor, xt: IntTensor, t: IntTensor, y: IntTensor, matrices: TransitionMatrices, noise: Tensor
    ) -> IntTensor {
        let previous = IntTensor(shape: t.shape, scalars: t.scalars.map { max($0 - 1, 1) })
        let logits = qPosteriorLogits(
            x0Logits: model(xt, t, y), xt: xt, t: previous, qOnestepTransposed: matrices.qOnestepTransposed,
            qCumulative: matrices.qCumulative)
        return reverseStep(logits, xt: xt, t: t, sampled: gumbelMaxSample(logits, noise: noise))
    }
}

/// The posterior's probabilities handed to the sampler as logits.
enum PSampleProbabilitiesAsLogits: Mutant {
    static func pSample(
        model: X0Predictor, xt: IntTensor, t: IntTensor, y: IntTensor, matrices: TransitionMatrices, noise: Tensor
    ) -> IntTensor {
        let logits = qPosteriorLogits(
            x0Logits: model(xt, t, y), xt: xt, t: t, qOnestepTransposed: matrices.qOnestepTransposed,
            qCumulative: matrices.qCumulative)
        return reverseStep(
            logits, xt: xt, t: t, sampled: gumbelMaxSample(softmax(logits, axis: -1), noise: noise))
    }
}

// MARK: - Exercises 6 and 7

enum AbsorbingMaskFirst: Mutant {
    static func makeAbsorbingQOnestep(numClasses: Int, betas: Tensor) -> Tensor {
        let states = numClasses + 1
        let b = betas.reshaped(-1, 1, 1)
        let toFirst = Tensor(
            shape: [states, states], scalars: (0..<(states * states)).map { $0 % states == 0 ? 1 : 0 })
        return (1 - b) * Tensor.eye(states) + b * toFirst
    }
}

enum AbsorbingUniformJump: Mutant {
    static func makeAbsorbingQOnestep(numClasses: Int, betas: Tensor) -> Tensor {
        ReferenceSolutions.makeUniformQOnestep(numClasses: numClasses + 1, betas: betas)
    }
}

enum GaussianWithoutZeroOffset: Mutant {
    static func makeGaussianQOnestep(numClasses k: Int, betas: Tensor) -> Tensor {
        let scale = Float((k - 1) * (k - 1))
        let squaredOffsets = Tensor(
            shape: [1, k, k], scalars: (0..<(k * k)).map { Float((($0 / k) - ($0 % k)) * (($0 / k) - ($0 % k))) })
        let beta = betas.reshaped(-1, 1, 1)
        // The normaliser summed over n != 0 only.
        let n = Tensor((-(k - 1)...(k - 1)).filter { $0 != 0 }.map { Float($0 * $0) }).reshaped(1, 1, -1)
        let z = exp(-4 * n / (scale * beta)).sum(axis: -1, keepDims: true)
        let off = exp(-4 * squaredOffsets / (scale * beta)) / z * (1 - Tensor.eye(k))
        return off + Tensor.eye(k) * (1 - off.sum(axis: -1, keepDims: true))
    }
}

enum GaussianUnscaled: Mutant {
    static func makeGaussianQOnestep(numClasses k: Int, betas: Tensor) -> Tensor {
        // exp(-4 (i - j)^2 / beta): the reference with beta / (K - 1)^2.
        ReferenceSolutions.makeGaussianQOnestep(numClasses: k, betas: betas / Float((k - 1) * (k - 1)))
    }
}

// MARK: - Exercise 8

/// A skip-step posterior with the jump's likelihood built from a product of the one-step matrices.
func mutatedSkip(
    x0Logits: Tensor, xt: IntTensor, t: Int, s: Int, qOnestep: Tensor, qCumulative: Tensor,
    jump: (Tensor, Int, Int) -> Tensor
) -> Tensor {
    if s == 0 { return x0Logits }
    let k = qOnestep.shape[1], eps = D3PMConstants.logEpsilon
    let likelihood = jump(qOnestep, s, t).transposed()[xt]
    let p0 = softmax(x0Logits, axis: -1)
    let prior = matmul(p0.reshaped(-1, k), qCumulative[s - 1]).reshaped(p0.shape)
    return log(likelihood + eps) + log(prior + eps)
}

/// Only Q_t, the last one-step matrix, for the whole jump.
enum SkipWithOneStep: Mutant {
    static func qSkipPosteriorLogits(
        x0Logits: Tensor, xt: IntTensor, from t: Int, to s: Int, qOnestep: Tensor, qCumulative: Tensor
    ) -> Tensor {
        mutatedSkip(x0Logits: x0Logits, xt: xt, t: t, s: s, qOnestep: qOnestep, qCumulative: qCumulative) { q, _, t in
            q[t - 1]
        }
    }
}

/// Q_t ... Q_{s+1}: the product in the wrong order.
enum SkipProductReversed: Mutant {
    static func qSkipPosteriorLogits(
        x0Logits: Tensor, xt: IntTensor, from t: Int, to s: Int, qOnestep: Tensor, qCumulative: Tensor
    ) -> Tensor {
        mutatedSkip(x0Logits: x0Logits, xt: xt, t: t, s: s, qOnestep: qOnestep, qCumulative: qCumulative) { q, s, t in
            var jump = q[s]
            for index in (s + 1)..<t { jump = matmul(q[index], jump) }
            return jump
        }
    }
}

/// Q_{s:t}: one matrix too many at the start of the jump.
enum SkipFromStepS: Mutant {
    static func qSkipPosteriorLogits(
        x0Logits: Tensor, xt: IntTensor, from t: Int, to s: Int, qOnestep: Tensor, qCumulative: Tensor
    ) -> Tensor {
        mutatedSkip(x0Logits: x0Logits, xt: xt, t: t, s: s, qOnestep: qOnestep, qCumulative: qCumulative) { q, s, t in
            var jump = q[s - 1]
            for index in s..<t { jump = matmul(jump, q[index]) }
            return jump
        }
    }
}

/// Every mutant, the exercise it breaks, and a phrase the report must contain
/// (metatypes are not Sendable; the list is never mutated).
nonisolated(unsafe) let allMutants: [(type: D3PMExercises.Type, breaks: Int, phrase: String)] = [
    (DiagonalOneMinusBeta.self, 1, "1 - (K - 1) beta_t / K"),
    (CumulativeReversed.self, 1, "wrong order"),
    (CumulativeStartsAtIdentity.self, 1, "index 0 must hold Q_1"),
    (GatherAtOffByOne.self, 2, "instead of a[t - 1]"),
    (GatherAtColumn.self, 2, "column x instead of row x"),
    (PosteriorUsesCumulativeT.self, 2, "Q_{1:t} where Q_{1:t-1} belongs"),
    (PosteriorWithoutTranspose.self, 2, "row x_t of Q_t^T"),
    (PosteriorMissingFirstStep.self, 2, "t = 1"),
    (PosteriorWithoutSoftmax.self, 2, "softmax"),
    (PosteriorDetached.self, 2, "No gradient reaches x0Logits"),
    (GumbelFromLogU.self, 2, "-log(-log u)"),
    (GumbelWithoutClamp.self, 2, "Clamp u"),
    (KLSwapped.self, 3, "swapped"),
    (KLSignFlipped.self, 3, "sign"),
    (KLSummedOverPositions.self, 3, "do not sum them"),
    (VBCutOffFromGradient.self, 3, "cut off"),
    (WeightingReversed.self, 3, "lambda multiplies"),
    (QSampleDoubleNoise.self, 4, "twice"),
    (QSampleSecondIndependentDraw.self, 4, "exactly the given noise"),
    (QSampleWithoutNoise.self, 4, "noise is not used"),
    (PSampleNoiseAtFirstStep.self, 5, "noise at t = 1"),
    (PSampleReturnsX0Argmax.self, 5, "argmax of the x0 prediction"),
    (PSampleModelSeesPreviousStep.self, 5, "not t - 1"),
    (AbsorbingMaskFirst.self, 6, "not the first"),
    (AbsorbingUniformJump.self, 6, "[MASK] only"),
    (GaussianWithoutZeroOffset.self, 7, "n = 0 included"),
    (GaussianUnscaled.self, 7, "(K - 1)^2 is missing"),
    (UniformOverOtherClasses.self, 1, "K - 1 other classes"),
    (BetasReadOneTooFar.self, 1, "one index too far"),
    (PosteriorWithoutEps.self, 2, "-infinity - -infinity is NaN"),
    (VBSummedOverPixels.self, 3, "summed over the pixels"),
    (VBAtPreviousStep.self, 3, "step t - 1"),
    (QSampleProbabilitiesAsLogits.self, 4, "takes logits"),
    (PSampleNeverSamples.self, 5, "argmax at every step"),
    (SkipWithOneStep.self, 8, "only Q_t"),
    (SkipProductReversed.self, 8, "wrong order"),
    (SkipFromStepS.self, 8, "Q_{s:t}"),
    (GumbelEpsInsideLog.self, 2, "Clamp u"),
    (GumbelWideClamp.self, 2, "Clamp u"),
    (PosteriorFirstStepDetached.self, 2, "where t = 1"),
    (VBSummedOverAxisOne.self, 3, "axis 1"),
    (PracticalVBAsNumber.self, 3, "cut off"),
    (QSampleColumn.self, 4, "column x0"),
    (PSampleHardPrediction.self, 5, "hard x0"),
    (PSamplePreviousPosterior.self, 5, "step t - 1"),
    (PSampleProbabilitiesAsLogits.self, 5, "takes logits"),
]
