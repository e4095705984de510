import Tensors

/// One call of a function of ``D3PMExercises``, as data: the grader decides
/// which calls a check makes and with which inputs, a separate process makes
/// them on the student's code (``ExerciseRunner``), and only the
/// ``CallResult``s come back. The verdict is reached where no student code
/// runs.
public enum ExerciseCall: Codable, Sendable {
    case makeUniformQOnestep(numClasses: Int, betas: Tensor)
    case makeAbsorbingQOnestep(numClasses: Int, betas: Tensor)
    case makeGaussianQOnestep(numClasses: Int, betas: Tensor)
    case cumulativeQ(Tensor)
    case gatherAt(Tensor, t: IntTensor, x: IntTensor)
    case qPosteriorLogits(x0: IntTensor, xt: IntTensor, t: IntTensor, matrices: MatrixPair)
    /// With `gradientWeights` w, the result also holds the gradient of
    /// sum(w * logits) with respect to `x0Logits`.
    case qPosteriorLogitsFromPrediction(
        x0Logits: Tensor, xt: IntTensor, t: IntTensor, matrices: MatrixPair, gradientWeights: Tensor?)
    case gumbelMaxSample(Tensor, noise: Tensor)
    /// With `gradient`, the result also holds the gradients with respect to both arguments.
    case vb(Tensor, Tensor, gradient: Bool)
    /// With `gradient`, the result also holds the gradient of the loss with respect to `modelLogits`.
    case hybridLoss(
        modelLogits: Tensor, x0: IntTensor, xt: IntTensor, t: IntTensor, matrices: MatrixPair,
        lambda: Float, weighting: LossWeighting, gradient: Bool)
    case qSample(x0: IntTensor, t: IntTensor, noise: Tensor, qCumulative: Tensor)
    case qSkipPosteriorLogits(x0Logits: Tensor, xt: IntTensor, t: Int, s: Int, matrices: MatrixPair)
    case pSample(model: ScriptedModel, xt: IntTensor, t: IntTensor, y: IntTensor, matrices: MatrixPair, noise: Tensor)

    /// The protocol function the call reaches, for reports ("inside qSample").
    public var function: String {
        switch self {
        case .makeUniformQOnestep: "makeUniformQOnestep"
        case .makeAbsorbingQOnestep: "makeAbsorbingQOnestep"
        case .makeGaussianQOnestep: "makeGaussianQOnestep"
        case .cumulativeQ: "cumulativeQ"
        case .gatherAt: "gatherAt"
        case .qPosteriorLogits, .qPosteriorLogitsFromPrediction: "qPosteriorLogits"
        case .gumbelMaxSample: "gumbelMaxSample"
        case .vb: "vb"
        case .hybridLoss: "hybridLoss"
        case .qSample: "qSample"
        case .qSkipPosteriorLogits: "qSkipPosteriorLogits"
        case .pSample: "pSample"
        }
    }
}

/// One-step matrices Q_t and their cumulative products Q_{1:t}, both
/// [T, K, K], as a call carries them.
public struct MatrixPair: Codable, Sendable {
    public var qOnestep: Tensor
    public var qCumulative: Tensor

    public init(qOnestep: Tensor, qCumulative: Tensor) {
        self.qOnestep = qOnestep
        self.qCumulative = qCumulative
    }

    /// The matrices as the exercise functions take them.
    public var transitionMatrices: TransitionMatrices {
        TransitionMatrices(qOnestep: qOnestep, qCumulative: qCumulative)
    }
}

/// A stand-in for the network in a reverse-step check: its answer is fixed
/// in advance, and every call to it is recorded.
public enum ScriptedModel: Codable, Sendable {
    /// Returns these x0 logits, [B, ..., K], whatever it is asked.
    case constant(Tensor)
    /// Predicts x0 = x_t: log(one-hot(x_t) + 1e-9) over `numClasses` classes.
    case identity(numClasses: Int)
    /// Predicts x0 = x_t + 1 (mod K), so that returning x_t is wrong.
    case shifted(numClasses: Int)

    /// The logits it returns for `xt`.
    public func logits(for xt: IntTensor) -> Tensor {
        switch self {
        case .constant(let logits): logits
        case .identity(let numClasses): log(oneHot(xt, numClasses: numClasses) + 1e-9)
        case .shifted(let numClasses): log(oneHot((xt + 1) % numClasses, numClasses: numClasses) + 1e-9)
        }
    }
}

/// The inputs a model was called with.
public struct ModelCall: Codable, Sendable, Equatable {
    public var xt: IntTensor
    public var t: IntTensor
    public var y: IntTensor

    public init(xt: IntTensor, t: IntTensor, y: IntTensor) {
        self.xt = xt
        self.t = t
        self.y = y
    }
}

/// What one ``ExerciseCall`` returned: raw outputs, never a verdict.
public struct CallResult: Codable, Sendable {
    /// The function's tensor result (for the hybrid loss: the loss).
    public var value: Tensor?
    /// The function's integer result (samples).
    public var integers: IntTensor?
    /// The hybrid loss's VB and CE terms.
    public var vb: Tensor?
    public var ce: Tensor?
    /// Gradients, where the call asked for them, in the order of the call's inputs.
    public var gradients: [Tensor]?
    /// The calls a ``ScriptedModel`` received.
    public var modelCalls: [ModelCall]?

    public init(
        value: Tensor? = nil, integers: IntTensor? = nil, vb: Tensor? = nil, ce: Tensor? = nil,
        gradients: [Tensor]? = nil, modelCalls: [ModelCall]? = nil
    ) {
        self.value = value
        self.integers = integers
        self.vb = vb
        self.ce = ce
        self.gradients = gradients
        self.modelCalls = modelCalls
    }
}
