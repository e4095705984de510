import NN
import Tensors

/// The practical's small U-Net: it predicts the logits of x0 from a noisy
/// image x_t, the time step t and the class label y.
///
///     h1 = down1(x) + tProj1(e_t) + cond(y)                      28 x 28, C channels
///     h2 = down2(pool(h1)) + tProj2(e_t) + condProj2(cond(y))    14 x 14, 2C channels
///     logits = final(up2(up1(h2) + h1))                          28 x 28, K classes
///
/// with convBlock = (Conv3x3 -> GroupNorm(8) -> SiLU) x 2 and
/// upBlock = ConvTranspose(2, stride 2) -> GroupNorm(8) -> SiLU.
///
/// Activations are channels-last inside; the output is laid out
/// [B, 1, H, W, K], so the logits of pixel (i, j) are at [b, 0, i, j, :]
/// (the original practical swapped H and W here). Parameter names follow
/// the PyTorch module of `bench/pytorch_d3pm.py`.
public struct TinyX0Model: X0Model {
    public let numClasses: Int
    public let channels: Int
    public let timeDimension: Int
    /// Whether two input channels give each pixel its row and column in [-1, 1]
    /// (`--model coords`). A fully convolutional net sees about 19 pixels
    /// around each pixel; near the start of the reverse chain, where the
    /// image is all noise or all [MASK], only these channels say where a
    /// pixel is.
    public let coordinates: Bool
    public let noLabel: Int?

    public var tProj1: Linear
    public var tProj2: Linear
    public var condEmbedding: Embedding
    public var condProj2: Linear
    public var down1: ConvBlock
    public var down2: ConvBlock
    public var up1: UpBlock
    public var up2: ConvBlock
    public var final: Conv2d

    /// A model with PyTorch's default initialisation.
    /// - Parameters:
    ///   - numClasses: K, the gray levels.
    ///   - channels: C, the base width (32 in the practical).
    ///   - timeDimension: the size of the time embedding (32).
    ///   - conditionClasses: the number of labels (10 digits).
    ///   - withNoLabel: whether label `conditionClasses` stands for "no label" (an extra embedding row).
    public init(
        numClasses: Int = 4, channels: Int = 32, timeDimension: Int = 32, conditionClasses: Int = 10,
        coordinates: Bool = false, withNoLabel: Bool = false, seed: UInt64 = 0
    ) {
        var rng = RandomGenerator(seed: seed)
        self.numClasses = numClasses
        self.channels = channels
        self.timeDimension = timeDimension
        self.coordinates = coordinates
        noLabel = withNoLabel ? conditionClasses : nil
        tProj1 = Linear(timeDimension, channels, using: &rng)
        tProj2 = Linear(timeDimension, 2 * channels, using: &rng)
        condEmbedding = Embedding(conditionClasses + (withNoLabel ? 1 : 0), channels, using: &rng)
        condProj2 = Linear(channels, 2 * channels, using: &rng)
        down1 = ConvBlock(coordinates ? 3 : 1, channels, using: &rng)
        down2 = ConvBlock(channels, 2 * channels, using: &rng)
        up1 = UpBlock(2 * channels, channels, using: &rng)
        up2 = ConvBlock(channels, channels, using: &rng)
        final = Conv2d(channels, numClasses, kernelSize: 1, using: &rng)
    }

    public var architecture: ModelArchitecture { coordinates ? .coords : .tiny }

    /// The x0 logits, shape [B, 1, H, W, K], for images x_t [B, 1, H, W]
    /// (H and W even), steps t [B] and labels y [B].
    public func callAsFunction(_ xt: IntTensor, _ t: IntTensor, _ y: IntTensor) -> Tensor {
        precondition(
            xt.rank == 4 && xt.shape[1] == 1, "TinyX0Model: expected x_t of shape [B, 1, H, W], got \(xt.shape)")
        let (b, h, w) = (xt.shape[0], xt.shape[2], xt.shape[3])
        precondition(h % 2 == 0 && w % 2 == 0, "TinyX0Model: height and width must be even, got \(h) x \(w)")
        precondition(
            t.shape == [b] && y.shape == [b],
            "TinyX0Model: t and y must have shape [\(b)], got \(t.shape) and \(y.shape)")
        var x = xt.asFloat.reshaped(b, h, w, 1) * (2 / Float(numClasses - 1)) - 1
        if coordinates {
            x = concat([x, .pixelCoordinates(batch: b, height: h, width: w)], axis: 3)
        }
        let timeEmbedding = sinusoidalTimeEmbedding(t, dimension: timeDimension)
        let condition = condEmbedding(y)
        let h1 = down1(x) + (tProj1(timeEmbedding) + condition).reshaped(b, 1, 1, channels)
        let h2 =
            down2(averagePool2x2(h1)) + (tProj2(timeEmbedding) + condProj2(condition)).reshaped(b, 1, 1, 2 * channels)
        let features = up2(up1(h2) + h1)
        return final(features).reshaped(b, 1, h, w, numClasses)
    }

    public mutating func visitParameters(_ body: (String, inout Tensor) -> Void) {
        tProj1.visitParameters { body("tProj1.\($0)", &$1) }
        tProj2.visitParameters { body("tProj2.\($0)", &$1) }
        condEmbedding.visitParameters { body("condEmbedding.\($0)", &$1) }
        condProj2.visitParameters { body("condProj2.\($0)", &$1) }
        down1.visitParameters { body("down1.\($0)", &$1) }
        down2.visitParameters { body("down2.\($0)", &$1) }
        up1.visitParameters { body("up1.\($0)", &$1) }
        up2.visitParameters { body("up2.\($0)", &$1) }
        final.visitParameters { body("final.\($0)", &$1) }
    }
}

/// Conv3x3 -> GroupNorm(8) -> SiLU -> Conv3x3 -> GroupNorm(8) -> SiLU
/// (PyTorch names: `0` and `3` for the convolutions, `1` and `4` for the norms).
public struct ConvBlock: Layer {
    public var conv1: Conv2d
    public var norm1: GroupNorm
    public var conv2: Conv2d
    public var norm2: GroupNorm

    public init(_ inChannels: Int, _ outChannels: Int, using rng: inout RandomGenerator) {
        conv1 = Conv2d(inChannels, outChannels, kernelSize: 3, padding: 1, using: &rng)
        norm1 = GroupNorm(groups: 8, channels: outChannels)
        conv2 = Conv2d(outChannels, outChannels, kernelSize: 3, padding: 1, using: &rng)
        norm2 = GroupNorm(groups: 8, channels: outChannels)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        norm2.normalizedSiLU(conv2(norm1.normalizedSiLU(conv1(x))))
    }

    public mutating func visitParameters(_ body: (String, inout Tensor) -> Void) {
        conv1.visitParameters { body("0.\($0)", &$1) }
        norm1.visitParameters { body("1.\($0)", &$1) }
        conv2.visitParameters { body("3.\($0)", &$1) }
        norm2.visitParameters { body("4.\($0)", &$1) }
    }
}

/// ConvTranspose(2, stride 2) -> GroupNorm(8) -> SiLU (PyTorch names `0`, `1`).
public struct UpBlock: Layer {
    public var convTranspose: ConvTranspose2d
    public var norm: GroupNorm

    public init(_ inChannels: Int, _ outChannels: Int, using rng: inout RandomGenerator) {
        convTranspose = ConvTranspose2d(inChannels, outChannels, using: &rng)
        norm = GroupNorm(groups: 8, channels: outChannels)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { norm.normalizedSiLU(convTranspose(x)) }

    public mutating func visitParameters(_ body: (String, inout Tensor) -> Void) {
        convTranspose.visitParameters { body("0.\($0)", &$1) }
        norm.visitParameters { body("1.\($0)", &$1) }
    }
}
