import NN
import Tensors

/// A network that predicts the logits of x0 from a noisy image x_t, the
/// time step t and the class label y: what the D3PM's training loss, reverse
/// chain and likelihood bound need of a model.
public protocol X0Model: ParameterContainer {
    /// K, the gray levels the logits range over.
    var numClasses: Int { get }
    /// The architecture, with the settings that rebuild it from a checkpoint.
    var architecture: ModelArchitecture { get }
    /// The label that stands for "no label" (classifier-free guidance): the
    /// last row of the label embedding, or nil for a model that knows only
    /// the ten digits.
    var noLabel: Int? { get }
    /// The x0 logits, shape [B, 1, H, W, K], for images x_t [B, 1, H, W],
    /// steps t [B] and labels y [B].
    func callAsFunction(_ xt: IntTensor, _ t: IntTensor, _ y: IntTensor) -> Tensor
}

/// The models the kit trains (`d3pm train --model`).
public enum ModelArchitecture: String, CaseIterable, Sendable {
    /// The practical's TinyX0Model.
    case tiny
    /// TinyX0Model with two coordinate input channels.
    case coords
    /// ``UNetX0Model``: three resolutions down to 7 x 7, self-attention
    /// there, coordinates, and the label and time at every block.
    case unet

    /// A freshly initialised model (PyTorch's default initialisation).
    /// - Parameter withNoLabel: whether the label embedding has a "no label"
    ///   row after the ten digits (training with label dropout, for guidance).
    public func makeModel(numClasses: Int = 4, withNoLabel: Bool = false, seed: UInt64) -> any X0Model {
        switch self {
        case .tiny: TinyX0Model(numClasses: numClasses, withNoLabel: withNoLabel, seed: seed)
        case .coords: TinyX0Model(numClasses: numClasses, coordinates: true, withNoLabel: withNoLabel, seed: seed)
        case .unet: UNetX0Model(numClasses: numClasses, withNoLabel: withNoLabel, seed: seed)
        }
    }

    /// The label dropout a run of this model gets by default: 0.1 for the
    /// U-Net, which is sampled with guidance; none for the practical's models,
    /// which keep the practical's exact architecture.
    public var defaultLabelDropout: Float { self == .unet ? 0.1 : 0 }

    /// Whether a run of this model lowers its learning rate to zero by its
    /// last step by default: the U-Net's short recipe does; the practical's
    /// models keep the practical's constant rate.
    public var decaysLearningRateByDefault: Bool { self == .unet }
}

extension Tensor {
    /// Two channels holding each pixel's row and column, scaled to [-1, 1]:
    /// shape [batch, height, width, 2].
    static func pixelCoordinates(batch: Int, height: Int, width: Int) -> Tensor {
        let rows = Tensor.linspace(-1, 1, count: height).reshaped(1, height, 1, 1).broadcast(to: [
            batch, height, width, 1,
        ])
        let columns = Tensor.linspace(-1, 1, count: width).reshaped(1, 1, width, 1).broadcast(to: [
            batch, height, width, 1,
        ])
        return concat([rows, columns], axis: 3)
    }
}
