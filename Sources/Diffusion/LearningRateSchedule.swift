import Foundation

/// How the learning rate moves over a training run.
///
/// A short run ends far better when the rate comes down before the end: the
/// last steps then average out the noise of single batches instead of
/// following it (the U-Net's two-epoch run reaches the Fréchet distance of
/// three constant-rate epochs this way).
public enum LearningRateSchedule: Sendable, Equatable, CustomStringConvertible {
    /// The base rate at every step.
    case constant
    /// Half a cosine from the base rate at step 0 down to zero at step
    /// `steps` (and zero after it): `base * (1 + cos(pi * step / steps)) / 2`.
    case cosine(steps: Int)

    /// The rate of the step that follows `step` steps done.
    public func rate(base: Float, afterSteps step: Int) -> Float {
        switch self {
        case .constant:
            return base
        case .cosine(let steps):
            precondition(steps >= 1, "LearningRateSchedule.cosine: steps must be at least 1, got \(steps)")
            let progress = Double(min(max(step, 0), steps)) / Double(steps)
            return base * Float((1 + cos(Double.pi * progress)) / 2)
        }
    }

    /// The steps over which the rate decays (0 when it does not), as a
    /// checkpoint records it.
    public var decaySteps: Int {
        switch self {
        case .constant: 0
        case .cosine(let steps): steps
        }
    }

    /// The schedule a checkpoint's `decaySteps` names.
    public init(decaySteps: Int) {
        self = decaySteps > 0 ? .cosine(steps: decaySteps) : .constant
    }

    public var description: String {
        switch self {
        case .constant: "constant"
        case .cosine(let steps): "cosine over \(steps) steps"
        }
    }
}
