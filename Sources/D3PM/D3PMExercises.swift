import Tensors

/// A network that predicts the logits of x0 from a noisy image: it maps
/// `(xt [B, 1, H, W], t [B], y [B])` to logits of shape `[B, 1, H, W, K]`.
public typealias X0Predictor = (_ xt: IntTensor, _ t: IntTensor, _ y: IntTensor) -> Tensor

/// The functions of the practical, one protocol that two modules implement:
/// `Student` (the exercises, in `Exercises/`) and `Solutions` (the reference).
///
/// The grader, the tests, training and sampling are written against this
/// protocol, so each runs on the student's functions or on the solutions.
///
/// Conventions: K classes, T steps; time steps run 1...T and arrays indexed
/// by time hold step t at index t - 1. Distributions are row vectors:
/// q(x_t | x_{t-1}) is row x_{t-1} of Q_t.
public protocol D3PMExercises {
    /// A name for reports ("Student", "Solutions").
    static var name: String { get }

    // MARK: Exercise 1: transition matrices

    /// The uniform one-step matrices Q_t = (1 - beta_t) I + (beta_t / K) 1 1^T,
    /// shape [T, K, K].
    static func makeUniformQOnestep(numClasses: Int, betas: Tensor) -> Tensor

    /// The cumulative products Q_{1:t} = Q_1 Q_2 ... Q_t for every t, shape
    /// [T, K, K], index t - 1 holding Q_{1:t}.
    static func cumulativeQ(_ qOnestep: Tensor) -> Tensor

    // MARK: Exercises 6 and 7: other corruptions (beyond the practical)

    /// Absorbing-state matrices with K + 1 states, the last being [MASK]:
    /// Q_t = (1 - beta_t) I + beta_t 1 e_m^T, shape [T, K + 1, K + 1].
    static func makeAbsorbingQOnestep(numClasses: Int, betas: Tensor) -> Tensor

    /// Discretized-Gaussian matrices, shape [T, K, K]: off the diagonal
    /// Q_t[i, j] = exp(-4 (i - j)^2 / ((K - 1)^2 beta_t)) / Z_t with
    /// Z_t = sum over n = -(K - 1)...(K - 1) of exp(-4 n^2 / ((K - 1)^2 beta_t)),
    /// and the diagonal takes the rest of each row.
    static func makeGaussianQOnestep(numClasses: Int, betas: Tensor) -> Tensor

    // MARK: Exercise 2: posterior and Gumbel-max

    /// Row `x` of `a[t - 1]`, per batch element: `a` [T, K, K], `t` [B] in
    /// 1...T, `x` [B, ...] in 0..<K; returns [B, ..., K].
    static func gatherAt(_ a: Tensor, t: IntTensor, x: IntTensor) -> Tensor

    /// Logits of q(x_{t-1} | x_t, x0) for a known x0 [B, ...]; returns [B, ..., K].
    static func qPosteriorLogits(
        x0: IntTensor, xt: IntTensor, t: IntTensor, qOnestepTransposed: Tensor, qCumulative: Tensor
    ) -> Tensor

    /// Logits of the posterior with x0 predicted as softmax(`x0Logits`)
    /// [B, ..., K]; returns [B, ..., K].
    static func qPosteriorLogits(
        x0Logits: Tensor, xt: IntTensor, t: IntTensor, qOnestepTransposed: Tensor, qCumulative: Tensor
    ) -> Tensor

    /// One sample per position of the categorical distribution softmax(`logits`)
    /// [..., K] by the Gumbel-max trick, with `noise` [..., K] uniform in [0, 1)
    /// as the source of randomness; returns [...].
    static func gumbelMaxSample(_ logits: Tensor, noise: Tensor) -> IntTensor

    // MARK: Exercise 3: the hybrid loss

    /// The mean over positions of KL(softmax(logits1) || softmax(logits2)).
    static func vb(_ logits1: Tensor, _ logits2: Tensor) -> Tensor

    /// The hybrid loss for a batch: the VB term between the true and the
    /// model's posterior, and the cross-entropy of the x0 prediction.
    static func hybridLoss(
        modelLogits: Tensor, x0: IntTensor, xt: IntTensor, t: IntTensor,
        matrices: TransitionMatrices, lambda: Float, weighting: LossWeighting
    ) -> HybridLossTerms

    // MARK: Exercise 4: forward sampling

    /// A sample of x_t ~ q(x_t | x0) = row x0 of Q_{1:t}, with `noise`
    /// [B, ..., K] uniform in [0, 1) as the source of randomness.
    static func qSample(x0: IntTensor, t: IntTensor, noise: Tensor, qCumulative: Tensor) -> IntTensor

    // MARK: Exercise 8: jumping several steps back

    /// Logits of q(x_s | x_t, x0) for a jump from step `t` back to step `s`
    /// (0 <= s < t), with x0 predicted as softmax(`x0Logits`) [B, ..., K]:
    /// proportional to Q_{s+1:t}[x_s, x_t] times (p(x0) Q_{1:s})[x_s], where
    /// Q_{s+1:t} = Q_{s+1} ... Q_t; `x0Logits` themselves when s = 0. Returns [B, ..., K].
    static func qSkipPosteriorLogits(
        x0Logits: Tensor, xt: IntTensor, from t: Int, to s: Int, qOnestep: Tensor, qCumulative: Tensor
    ) -> Tensor

    // MARK: Exercise 5: one reverse step

    /// A sample of x_{t-1} ~ p(x_{t-1} | x_t): the model's x0 logits turned
    /// into the posterior and sampled, with no noise where t == 1.
    static func pSample(
        model: X0Predictor, xt: IntTensor, t: IntTensor, y: IntTensor,
        matrices: TransitionMatrices, noise: Tensor
    ) -> IntTensor
}

/// Where the factor lambda goes in the hybrid loss.
public enum LossWeighting: String, Sendable, CaseIterable, Codable {
    /// lambda * L_vb + CE: the practical's choice, and the kit's default.
    case practical
    /// L_vb + lambda * CE: the D3PM paper's choice (Austin et al., 2021, eq. 5).
    case paper
}

/// The hybrid loss and its two parts.
public struct HybridLossTerms {
    /// The weighted sum that training minimises.
    public var loss: Tensor
    /// The variational-bound term, the mean KL between posteriors.
    public var vb: Tensor
    /// The cross-entropy of the model's x0 prediction.
    public var ce: Tensor

    public init(loss: Tensor, vb: Tensor, ce: Tensor) {
        self.loss = loss
        self.vb = vb
        self.ce = ce
    }
}

/// The small constants of the practical, one definition each (the original
/// practical used different ones in different places).
public enum D3PMConstants {
    /// Added inside every log of a probability: log(p + 1e-9).
    public static let logEpsilon: Float = 1e-9
    /// Uniform noise is clamped to [1e-6, 1 - 1e-6] before -log(-log u).
    public static let gumbelEpsilon: Float = 1e-6
    /// The weight lambda of the hybrid loss.
    public static let hybridLambda: Float = 0.001
}

extension IntTensor {
    /// `self` reshaped to [B, 1, ..., 1] with `rank` axes, to broadcast a
    /// per-batch value (such as t) against a [B, ...] tensor of that rank.
    public func perBatch(rank: Int) -> IntTensor {
        precondition(self.rank == 1, "perBatch(rank:): expected a vector [B], got shape \(shape)")
        return reshaped([count] + [Int](repeating: 1, count: max(rank - 1, 0)))
    }
}
