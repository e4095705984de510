import Foundation
import Tensors

/// The matrices of a forward process, computed once: one-step Q_t, their
/// transposes and the cumulative products Q_{1:t}, all [T, K, K].
public struct TransitionMatrices: Sendable {
    /// Q_t at index t - 1.
    public let qOnestep: Tensor
    /// Q_t^T at index t - 1: row x_t of Q_t^T is column x_t of Q_t.
    public let qOnestepTransposed: Tensor
    /// Q_{1:t} at index t - 1.
    public let qCumulative: Tensor

    /// Matrices from one-step matrices, with the cumulative products computed
    /// by `implementation`.
    public init(qOnestep: Tensor, using implementation: D3PMExercises.Type) {
        self.init(qOnestep: qOnestep, qCumulative: implementation.cumulativeQ(qOnestep))
    }

    /// Matrices from one-step matrices and their cumulative products.
    public init(qOnestep: Tensor, qCumulative: Tensor) {
        precondition(
            qOnestep.rank == 3 && qOnestep.shape[1] == qOnestep.shape[2] && qCumulative.shape == qOnestep.shape,
            "TransitionMatrices: expected two [T, K, K] tensors, got \(qOnestep.shape) and \(qCumulative.shape)")
        self.qOnestep = qOnestep
        self.qOnestepTransposed = qOnestep.transposed()
        self.qCumulative = qCumulative
    }

    /// Uniform-noise matrices for `betas`, built by `implementation`
    /// (its makeUniformQOnestep and cumulativeQ).
    public static func uniform(numClasses: Int, betas: Tensor, using implementation: D3PMExercises.Type)
        -> TransitionMatrices
    {
        TransitionMatrices(
            qOnestep: implementation.makeUniformQOnestep(numClasses: numClasses, betas: betas), using: implementation)
    }

    /// The number of steps T.
    public var numSteps: Int { qOnestep.shape[0] }
    /// The number of classes K.
    public var numClasses: Int { qOnestep.shape[1] }
}

/// The corruptions of the D3PM paper that the kit implements.
public enum Corruption: String, CaseIterable, Sendable, Codable {
    /// Jump uniformly over the K classes (exercise 1).
    case uniform
    /// Jump to an extra [MASK] state that never leaves (exercise 6): K + 1 states.
    case absorbing
    /// Jump to nearby gray levels more often than far ones (exercise 7).
    case gaussian

    /// The number of states for K classes.
    public func states(classes: Int) -> Int { self == .absorbing ? classes + 1 : classes }

    /// One-step matrices built by `implementation`'s function for this corruption.
    public func onestep(classes: Int, betas: Tensor, using implementation: D3PMExercises.Type) -> Tensor {
        switch self {
        case .uniform: implementation.makeUniformQOnestep(numClasses: classes, betas: betas)
        case .absorbing: implementation.makeAbsorbingQOnestep(numClasses: classes, betas: betas)
        case .gaussian: implementation.makeGaussianQOnestep(numClasses: classes, betas: betas)
        }
    }
}

/// Noise schedules beta_1...beta_T.
public enum NoiseSchedule: String, CaseIterable, Sendable, Codable {
    /// `linspace(start, end, T)`: the practical's schedule (1e-3 to 0.1 over 200 steps for training).
    case linear
    /// The cosine schedule of Nichol and Dhariwal (2021): abar(t) = cos^2(((t / T + s) / (1 + s)) pi / 2)
    /// with s = 0.008, beta_t = 1 - abar(t) / abar(t - 1), at most 0.999.
    case cosine
    /// beta_t = 1 / (T - t + 1), the D3PM paper's schedule for absorbing noise: the
    /// probability of still being unmasked falls linearly, to 0 at t = T.
    case inverse

    /// beta_1 ... beta_T of this schedule (`start` and `end` apply to `linear` only).
    public func betas(steps: Int, start: Float = 1e-3, end: Float = 0.1) -> Tensor {
        switch self {
        case .linear: return Self.linear(steps: steps, start: start, end: end)
        case .cosine:
            let s = 0.008
            func alphaBar(_ t: Int) -> Double {
                let angle = ((Double(t) / Double(steps) + s) / (1 + s)) * Double.pi / 2
                return cos(angle) * cos(angle)
            }
            return Tensor((1...steps).map { t in Float(min(1 - alphaBar(t) / alphaBar(t - 1), 0.999)) })
        case .inverse:
            return Tensor((1...steps).map { t in 1 / Float(steps - t + 1) })
        }
    }

    /// `linspace(start, end, T)`: the practical's schedule (1e-3 to 0.1 over 200 steps for training).
    public static func linear(steps: Int, start: Float = 1e-3, end: Float = 0.1) -> Tensor {
        Tensor.linspace(start, end, count: steps)
    }
}

/// The entropy of each row (a distribution along `axis`), in nats: -sum p log p.
public func rowEntropy(_ probabilities: Tensor, axis: Int = -1) -> Tensor {
    -(probabilities * log(probabilities + 1e-12)).sum(axis: axis)
}
