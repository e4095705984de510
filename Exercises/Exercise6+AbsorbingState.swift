import D3PM
import Tensors

// MARK: - Exercise 6: the absorbing state (beyond the practical)
//
// Uniform noise forgets everything about a pixel at once. The D3PM paper's
// point is that the choice of Q_t matters; its best text model uses an
// absorbing state. Add a (K + 1)-th state, [MASK], with index K. At each step
// a value stays (probability 1 - beta_t) or becomes [MASK] (probability
// beta_t), and [MASK] never leaves:
//
//     Q_t = (1 - beta_t) I + beta_t 1 e_m^T,   e_m the one-hot row of [MASK].
//
// It is the discrete cousin of BERT's masked language model: the model learns
// to fill in masked pixels. With the schedule beta_t = 1 / (T - t + 1)
// (NoiseSchedule.inverse), a value is still unmasked at step t with
// probability 1 - t / T, and every value is masked at t = T.

extension StudentExercises {
    /// Absorbing-state transition matrices.
    ///
    /// - Parameters:
    ///   - numClasses: K, the number of real classes (the matrices have K + 1 states).
    ///   - betas: beta_1 ... beta_T, shape [T].
    /// - Returns: shape [T, K + 1, K + 1]; index t - 1 holds
    ///   Q_t = (1 - beta_t) I + beta_t 1 e_m^T with m = K.
    ///
    /// Task: as for the uniform matrices, with the jump going to the last
    /// column only. What must the [MASK] row look like, and does the formula give it?
    public static func makeAbsorbingQOnestep(numClasses: Int, betas: Tensor) -> Tensor {
        notImplemented()
    }
}
