import D3PM
import Tensors

// Exercise 8: jumping several steps back (beyond the practical).
//
// The reverse chain walks T = 200 steps. To sample in S < T steps, jump from
// step t straight back to an earlier step s. Bayes' rule holds for any s < t:
//
//     q(x_s | x_t, x0)  is proportional to  q(x_t | x_s) q(x_s | x0)
//                                          = Q_{s+1:t}[x_s, x_t] * Q_{1:s}[x0, x_s]
//
// where Q_{s+1:t} = Q_{s+1} Q_{s+2} ... Q_t is the product of the one-step
// matrices between s and t (step r is stored at index r - 1), and Q_{1:s} is
// in qCumulative at index s - 1. With s = t - 1 this is exercise 2's posterior.
// With a predicted x0 the prior is the row vector softmax(x0Logits) Q_{1:s}.
// At s = 0 there is nothing left to jump over: return x0Logits themselves.
// As in exercise 2, add eps = D3PMConstants.logEpsilon inside every log.
//
// `d3pm sample --steps 20` samples with your function in 20 jumps.

extension StudentExercises {
    /// Logits of q(x_s | x_t, x0) for a jump from step `t` back to step `s`
    /// (0 <= s < t), with x0 predicted as softmax(`x0Logits`).
    ///
    /// - Parameters:
    ///   - x0Logits: the model's x0 logits, [B, ..., K].
    ///   - xt: the current states, [B, ...].
    ///   - t: the step the batch is at (the same for every element).
    ///   - s: the step to jump to, 0 <= s < t.
    ///   - qOnestep: Q_r at index r - 1, [T, K, K].
    ///   - qCumulative: Q_{1:r} at index r - 1, [T, K, K].
    /// - Returns: the logits of x_s, [B, ..., K].
    public static func qSkipPosteriorLogits(
        x0Logits: Tensor, xt: IntTensor, from t: Int, to s: Int, qOnestep: Tensor, qCumulative: Tensor
    ) -> Tensor {
        notImplemented()
    }
}
