import D3PM
import Tensors

// MARK: - Exercise 7: discretized Gaussian noise (beyond the practical)
//
// Gray levels are ordered: a dark pixel should drift to a neighbouring gray
// more often than jump to white. The discretized Gaussian matrices do that.
// Off the diagonal,
//
//     Q_t[i, j] = exp(-4 (i - j)^2 / ((K - 1)^2 beta_t)) / Z_t,
//     Z_t = sum over n = -(K - 1) ... (K - 1) of exp(-4 n^2 / ((K - 1)^2 beta_t)),
//
// and the diagonal takes whatever keeps the row summing to 1. Z_t sums over
// all 2K - 1 offsets, n = 0 included, the same for every row. A small beta_t
// keeps almost all mass on the diagonal; a large one spreads it, most to the
// nearest levels. The matrices are symmetric, and rows near the middle of the
// scale lose more mass than rows at the ends (they have neighbours on both sides).

extension StudentExercises {
    /// Discretized-Gaussian transition matrices.
    ///
    /// - Parameters:
    ///   - numClasses: K.
    ///   - betas: beta_1 ... beta_T, shape [T].
    /// - Returns: shape [T, K, K], the off-diagonal entries as above and the
    ///   diagonal 1 minus the rest of its row.
    ///
    /// Task: build the (i - j)^2 matrix once, broadcast beta as [T, 1, 1],
    /// divide by Z_t, zero the diagonal with (1 - eye), then fill it back in.
    public static func makeGaussianQOnestep(numClasses: Int, betas: Tensor) -> Tensor {
        notImplemented()
    }
}
