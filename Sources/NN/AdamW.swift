import Foundation
import Tensors

/// The AdamW optimiser with PyTorch's defaults and update rule
/// (Loshchilov and Hutter, "Decoupled Weight Decay Regularization", 2019):
///
///     p <- p - lr * weightDecay * p
///     m <- beta1 m + (1 - beta1) g,   v <- beta2 v + (1 - beta2) g^2
///     p <- p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
///
/// Its state (the moments and the step count) is itself a
/// ``ParameterContainer``, so it is saved and restored with the model.
public struct AdamW: ParameterContainer {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float
    /// The number of updates made.
    public private(set) var step: Int = 0
    /// First and second moments, by parameter name.
    public private(set) var firstMoments: [String: Tensor] = [:]
    public private(set) var secondMoments: [String: Tensor] = [:]

    public init(
        learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
        weightDecay: Float = 0.01
    ) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    /// Updates `model` one step along `gradient` (a copy of the model holding gradients).
    public mutating func update<Model: ParameterContainer>(_ model: inout Model, along gradient: Model) {
        step += 1
        let gradients = Dictionary(uniqueKeysWithValues: gradient.namedParameters.map { ($0.name, $0.value) })
        let correction1 = 1 - Float(pow(Double(beta1), Double(step)))
        let correction2Root = (1 - Float(pow(Double(beta2), Double(step)))).squareRoot()
        let stepSize = learningRate / correction1
        let (b1, b2, eps, decay, lr) = (beta1, beta2, epsilon, weightDecay, learningRate)
        model.visitParameters { name, parameter in
            guard let g = gradients[name] else { return }
            precondition(
                g.shape == parameter.shape,
                "AdamW: gradient of shape \(g.shape) for parameter \(name) of shape \(parameter.shape)")
            var m = firstMoments[name]?.scalars ?? [Float](repeating: 0, count: parameter.count)
            var v = secondMoments[name]?.scalars ?? [Float](repeating: 0, count: parameter.count)
            var p = parameter.scalars
            g.scalars.withUnsafeBufferPointer { g in
                for i in 0..<p.count {
                    p[i] -= lr * decay * p[i]
                    m[i] = b1 * m[i] + (1 - b1) * g[i]
                    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                    p[i] -= stepSize * m[i] / (v[i].squareRoot() / correction2Root + eps)
                }
            }
            parameter = Tensor(shape: parameter.shape, scalars: p)
            firstMoments[name] = Tensor(shape: parameter.shape, scalars: m)
            secondMoments[name] = Tensor(shape: parameter.shape, scalars: v)
        }
    }

    /// The moments as named tensors (`m.NAME`, `v.NAME`), for checkpoints.
    public mutating func visitParameters(_ body: (String, inout Tensor) -> Void) {
        for name in firstMoments.keys.sorted() {
            body("m.\(name)", &firstMoments[name]!)
            body("v.\(name)", &secondMoments[name]!)
        }
    }

    /// Restores the moments and the step count saved by ``visitParameters(_:)``.
    public mutating func restore(step: Int, moments: [String: Tensor]) {
        self.step = step
        firstMoments = [:]
        secondMoments = [:]
        for (key, value) in moments {
            if key.hasPrefix("m.") { firstMoments[String(key.dropFirst(2))] = value }
            if key.hasPrefix("v.") { secondMoments[String(key.dropFirst(2))] = value }
        }
    }
}

/// Scales the gradient so that its global L2 norm is at most `maxNorm`
/// (PyTorch's `clip_grad_norm_`), and returns the norm before clipping.
@discardableResult
public func clipGradientNorm<Model: ParameterContainer>(_ gradient: inout Model, maxNorm: Float) -> Float {
    var total: Double = 0
    for (_, g) in gradient.namedParameters { total += g.scalars.reduce(0.0) { $0 + Double($1) * Double($1) } }
    let norm = Float(total.squareRoot())
    let scale = maxNorm / (norm + 1e-6)
    if scale < 1 { gradient.visitParameters { _, g in g = g * scale } }
    return norm
}
