import D3PM
import Tensors

// MARK: - Exercise 3: the hybrid loss
//
// The model sees x_t and t and predicts logits for x_0. Plugging its
// prediction into the posterior of exercise 2 gives its own reverse step
// p(x_{t-1} | x_t). Training pulls that towards the true posterior
// q(x_{t-1} | x_t, x_0) with the KL divergence of the variational bound:
//
//     KL(q || p) = sum_k q_k (log q_k - log p_k)  >=  0,  and 0 only when q = p.
//
// From logits, compute log q and log p with logSoftmax (stable even for
// large logits) and q_k = exp(log q_k). The KL is not symmetric: the true
// posterior comes first.
//
// The VB term alone trains slowly, so the D3PM paper adds the cross-entropy
// of the x_0 prediction. The practical weights the sum as
//
//     loss = lambda * L_vb + CE,   lambda = 0.001   (LossWeighting.practical)
//
// while the paper writes L_vb + lambda * CE (LossWeighting.paper). Support both.

extension StudentExercises {
    /// The mean over all positions of KL(softmax(logits1) || softmax(logits2)).
    ///
    /// - Parameters:
    ///   - logits1: logits of the first distribution (the true posterior), shape [..., K].
    ///   - logits2: logits of the second (the model's posterior), the same shape.
    /// - Returns: a scalar tensor, >= 0 (up to rounding).
    ///
    /// Task: sum over the last axis, mean over the rest. Keep it
    /// differentiable in both arguments (no `detached()`).
    public static func vb(_ logits1: Tensor, _ logits2: Tensor) -> Tensor {
        notImplemented()
    }

    /// The hybrid loss for one batch, and its two parts.
    ///
    /// - Parameters:
    ///   - modelLogits: the model's x_0 logits, shape [B, ..., K].
    ///   - x0: clean classes, shape [B, ...].
    ///   - xt: noisy classes, shape [B, ...].
    ///   - t: time steps in 1...T, shape [B].
    ///   - matrices: Q_t^T and Q_{1:t} (`matrices.qOnestepTransposed`, `matrices.qCumulative`).
    ///   - lambda: the weight, `D3PMConstants.hybridLambda` by default in training.
    ///   - weighting: where lambda goes.
    /// - Returns: the loss, the VB term (KL from the true to the model's
    ///   posterior) and the cross-entropy of `modelLogits` against `x0`.
    ///
    /// Task: the true posterior from x0, the model's from modelLogits, `vb`
    /// between them, `crossEntropy(modelLogits, targets: x0)`, combined.
    /// The gradient must reach modelLogits through both terms.
    public static func hybridLoss(
        modelLogits: Tensor, x0: IntTensor, xt: IntTensor, t: IntTensor,
        matrices: TransitionMatrices, lambda: Float, weighting: LossWeighting
    ) -> HybridLossTerms {
        notImplemented()
    }
}
