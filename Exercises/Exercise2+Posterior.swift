import D3PM
import Tensors

// MARK: - Exercise 2: the posterior q(x_{t-1} | x_t, x_0) and Gumbel-max
//
// To undo one step of noise we need the distribution of the previous value
// given the current one and the clean one. Bayes' rule and the Markov
// property give
//
//     q(x_{t-1} | x_t, x_0)  ∝  q(x_t | x_{t-1}) q(x_{t-1} | x_0)
//                             =  Q_t[x_{t-1}, x_t] * Q_{1:t-1}[x_0, x_{t-1}]
//
// as a function of x_{t-1} (a vector over the K classes):
//   - the first factor is column x_t of Q_t, which is row x_t of Q_t^T;
//   - the second is row x_0 of Q_{1:t-1}. When x_0 is not known but
//     predicted as a distribution p(x_0) = softmax(logits), it becomes the
//     row vector p(x_0) Q_{1:t-1}.
//
// Work with logits (unnormalised log-probabilities): the sum of the logs of
// the two factors, each with a small eps inside the log (log(p + eps), eps =
// D3PMConstants.logEpsilon), so that a zero probability gives a very
// negative logit, not -infinity. No need to normalise: softmax does it.
//
// Time indexing: arrays store step t at index t - 1, so Q_t is
// `qOnestepTransposed[t - 1]` (transposed) and Q_{1:t-1} is `qCumulative[t - 2]`.
// At t = 1 there is no Q_{1:0}: the previous value is x_0 itself, so the
// posterior is the distribution of x_0 and its logits are the x_0 logits
// (log(one-hot(x_0) + eps) for a known x_0).
//
// Gumbel-max: if g_k are independent standard Gumbel variables,
// argmax_k (logits_k + g_k) is distributed as softmax(logits). A standard
// Gumbel variable is -log(-log u) with u uniform in (0, 1); clamp u to
// [eps, 1 - eps] (eps = D3PMConstants.gumbelEpsilon) so that neither log
// sees 0 or 1.

extension StudentExercises {
    /// Picks, for each batch element b and each position, row `x[b, ...]` of
    /// the matrix `a[t[b] - 1]`.
    ///
    /// - Parameters:
    ///   - a: one matrix per time step, shape [T, K, K].
    ///   - t: time steps in 1...T, shape [B].
    ///   - x: classes in 0..<K, shape [B, ...] (any number of trailing axes).
    /// - Returns: shape [B, ..., K].
    ///
    /// Task: advanced indexing does it: `a[i, j]` with index tensors that
    /// broadcast together. `t` must be reshaped to [B, 1, ..., 1] with as many
    /// axes as `x` (see `IntTensor.perBatch(rank:)`). Mind the time index.
    public static func gatherAt(_ a: Tensor, t: IntTensor, x: IntTensor) -> Tensor {
        notImplemented()
    }

    /// Logits of the true posterior q(x_{t-1} | x_t, x_0) for a known x_0.
    ///
    /// - Parameters:
    ///   - x0: clean classes, shape [B, ...].
    ///   - xt: noisy classes at step t, shape [B, ...].
    ///   - t: time steps in 1...T, shape [B].
    ///   - qOnestepTransposed: Q_t^T at index t - 1, shape [T, K, K].
    ///   - qCumulative: Q_{1:t} at index t - 1, shape [T, K, K].
    /// - Returns: logits over x_{t-1}, shape [B, ..., K].
    ///
    /// Task: log(row x_t of Q_t^T + eps) + log(row x_0 of Q_{1:t-1} + eps);
    /// where t == 1, log(one-hot(x_0) + eps). `oneHot`, `vecmat` and `where`
    /// help; so does sharing code with the next function.
    public static func qPosteriorLogits(
        x0: IntTensor, xt: IntTensor, t: IntTensor, qOnestepTransposed: Tensor, qCumulative: Tensor
    ) -> Tensor {
        notImplemented()
    }

    /// Logits of the model's posterior, with x_0 predicted as softmax(x0Logits).
    ///
    /// - Parameters:
    ///   - x0Logits: the model's logits for x_0, shape [B, ..., K].
    ///   - xt, t, qOnestepTransposed, qCumulative: as above.
    /// - Returns: logits over x_{t-1}, shape [B, ..., K]; where t == 1, `x0Logits`.
    ///
    /// Task: as above with p(x_0) = softmax(x0Logits) and the row vector
    /// p(x_0) Q_{1:t-1} (`vecmat(p, q)` multiplies each vector along the last
    /// axis of p[b] by the matrix q[b]). Gradients must flow back to x0Logits:
    /// the hybrid loss trains the model through this function.
    public static func qPosteriorLogits(
        x0Logits: Tensor, xt: IntTensor, t: IntTensor, qOnestepTransposed: Tensor, qCumulative: Tensor
    ) -> Tensor {
        notImplemented()
    }

    /// Draws one class per position from softmax(logits) with the Gumbel-max trick.
    ///
    /// - Parameters:
    ///   - logits: shape [..., K].
    ///   - noise: uniform numbers in [0, 1), the same shape as `logits`. All the
    ///     randomness comes from here, so the same noise gives the same sample.
    /// - Returns: classes in 0..<K, shape [...].
    ///
    /// Task: clamp the noise, turn it into Gumbel noise, add, take the argmax
    /// over the last axis.
    public static func gumbelMaxSample(_ logits: Tensor, noise: Tensor) -> IntTensor {
        notImplemented()
    }
}
