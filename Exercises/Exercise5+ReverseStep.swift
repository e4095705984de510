import D3PM
import Tensors

// MARK: - Exercise 5: one reverse step
//
// Sampling runs the chain backwards: start from uniform noise at t = T and
// repeat x_{t-1} ~ p(x_{t-1} | x_t) down to t = 1. One step is
//
//   1. ask the model for x_0 logits given (x_t, t, y),
//   2. turn them into the posterior logits with your qPosteriorLogits,
//   3. sample with Gumbel-max.
//
// At t = 1 the step produces the final image: take the most likely class
// (the argmax) instead of a random draw, so that no noise is added at the end.

extension StudentExercises {
    /// One step of the reverse chain, x_t -> x_{t-1}.
    ///
    /// - Parameters:
    ///   - model: the x_0 predictor, `(xt, t, y) -> logits [B, 1, H, W, K]`.
    ///   - xt: the current images, shape [B, 1, H, W].
    ///   - t: the current steps in 1...T, shape [B].
    ///   - y: the class labels (digits) to condition on, shape [B].
    ///   - matrices: the transition matrices.
    ///   - noise: uniform numbers in [0, 1), shape [B, 1, H, W, K].
    /// - Returns: the images at step t - 1, shape [B, 1, H, W].
    ///
    /// Task: model, posterior, Gumbel-max; where t == 1, the argmax of the
    /// posterior logits instead (`where` with a mask from `t .== 1`, reshaped
    /// with `perBatch(rank:)`).
    public static func pSample(
        model: X0Predictor, xt: IntTensor, t: IntTensor, y: IntTensor,
        matrices: TransitionMatrices, noise: Tensor
    ) -> IntTensor {
        notImplemented()
    }
}
