import D3PM
import Tensors

// MARK: - Exercise 1: transition matrices
//
// A discrete diffusion corrupts a categorical value (here, the gray level of
// a pixel, one of K classes) a little at every step. Step t moves a value
// from class i to class j with probability Q_t[i, j]: row i of Q_t is the
// distribution of the next value given that the current one is i, so every
// row of Q_t sums to 1 (the matrix is "row-stochastic").
//
// Uniform noise: with probability 1 - beta_t keep the value; otherwise draw
// a new one uniformly among the K classes (the draw may give back the same
// class). In matrix form
//
//     Q_t = (1 - beta_t) I + (beta_t / K) 1 1^T
//
// so the diagonal is 1 - beta_t + beta_t / K, not 1 - beta_t.
//
// Because the steps are Markov, t steps at once are the product of the
// one-step matrices, in time order:
//
//     q(x_t | x_0) = row x_0 of Q_{1:t},  Q_{1:t} = Q_1 Q_2 ... Q_t.
//
// Order matters: matrix products do not commute in general (uniform
// matrices happen to, which is why the checks also use other matrices).
// As t grows the rows flatten towards the uniform distribution, and the
// entropy of each row rises towards log K.

extension StudentExercises {
    /// Builds the uniform one-step transition matrices, one per time step.
    ///
    /// - Parameters:
    ///   - numClasses: K, the number of categories.
    ///   - betas: the schedule beta_1 ... beta_T, shape [T].
    /// - Returns: shape [T, K, K]; index t - 1 holds
    ///   Q_t = (1 - beta_t) I + (beta_t / K) 1 1^T.
    ///
    /// Task: one expression with broadcasting is enough. `betas.reshaped(-1, 1, 1)`
    /// has shape [T, 1, 1] and broadcasts against `Tensor.eye(K)` ([K, K]).
    public static func makeUniformQOnestep(numClasses: Int, betas: Tensor) -> Tensor {
        notImplemented()
    }

    /// Multiplies the one-step matrices together, keeping every prefix.
    ///
    /// - Parameter qOnestep: Q_1 ... Q_T, shape [T, K, K].
    /// - Returns: shape [T, K, K]; index t - 1 holds Q_{1:t} = Q_1 Q_2 ... Q_t
    ///   (so index 0 holds Q_1 itself).
    ///
    /// Task: a loop with `matmul(_:_:)`, then `stack(_:)`. `qOnestep[t]` is the
    /// [K, K] matrix at index t. Think about which side the new matrix goes on.
    public static func cumulativeQ(_ qOnestep: Tensor) -> Tensor {
        notImplemented()
    }
}
