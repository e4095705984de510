import NN
import Tensors

/// A stronger small U-Net for x0 (`--model unet`), built to draw digits a
/// reader recognises where the practical's TinyX0Model, which sees about
/// 19 pixels around each pixel, often cannot.
///
///     e  = SiLU(timeMLP(sinusoidal(t)) + classEmbedding(y))          the condition
///     h1 = enc1([x, row, column], e)                    28 x 28, C
///     h2 = enc2(pool(h1), e)                            14 x 14, 2C
///     h3 = attention(enc3(pool(h2), e))                  7 x 7,  4C
///     d2 = dec2(up3(h3) + h2, e)                        14 x 14, 2C
///     d1 = dec1(up2(d2) + h1, e)                        28 x 28, C
///     logits = final(d1)                                [B, 1, H, W, K]
///
/// Each block is Conv3x3 -> GroupNorm -> SiLU, plus a projection of e (time
/// and label: conditioning at every level), -> Conv3x3 -> GroupNorm -> SiLU.
/// Self-attention over the 49 pixels at 7 x 7 gives every pixel the whole
/// image as context; the coordinate channels tell each pixel where it is.
/// Height and width must be multiples of 4.
public struct UNetX0Model: X0Model {
    public let numClasses: Int
    public let channels: Int
    public let timeDimension: Int
    public let noLabel: Int?

    public var timeMLP1: Linear
    public var timeMLP2: Linear
    public var classEmbedding: Embedding
    public var enc1: ConditionedConvBlock
    public var enc2: ConditionedConvBlock
    public var enc3: ConditionedConvBlock
    public var attention: SelfAttention
    public var up3: UpBlock
    public var dec2: ConditionedConvBlock
    public var up2: UpBlock
    public var dec1: ConditionedConvBlock
    public var final: Conv2d

    /// - Parameters:
    ///   - numClasses: K, the gray levels.
    ///   - channels: C, the width at full resolution (2C at 14 x 14, 4C at 7 x 7).
    ///   - timeDimension: the size of the sinusoidal time embedding.
    ///   - conditionClasses: the number of labels.
    ///   - withNoLabel: whether label `conditionClasses` stands for "no label" (an extra embedding row).
    public init(
        numClasses: Int = 4, channels: Int = 32, timeDimension: Int = 32, conditionClasses: Int = 10,
        withNoLabel: Bool = false, seed: UInt64 = 0
    ) {
        var rng = RandomGenerator(seed: seed)
        self.numClasses = numClasses
        self.channels = channels
        self.timeDimension = timeDimension
        noLabel = withNoLabel ? conditionClasses : nil
        let e = 4 * channels
        timeMLP1 = Linear(timeDimension, e, using: &rng)
        timeMLP2 = Linear(e, e, using: &rng)
        classEmbedding = Embedding(conditionClasses + (withNoLabel ? 1 : 0), e, using: &rng)
        enc1 = ConditionedConvBlock(3, channels, condition: e, using: &rng)
        enc2 = ConditionedConvBlock(channels, 2 * channels, condition: e, using: &rng)
        enc3 = ConditionedConvBlock(2 * channels, 4 * channels, condition: e, using: &rng)
        attention = SelfAttention(channels: 4 * channels, using: &rng)
        up3 = UpBlock(4 * channels, 2 * channels, using: &rng)
        dec2 = ConditionedConvBlock(2 * channels, 2 * channels, condition: e, using: &rng)
        up2 = UpBlock(2 * channels, channels, using: &rng)
        dec1 = ConditionedConvBlock(channels, channels, condition: e, using: &rng)
        final = Conv2d(channels, numClasses, kernelSize: 1, using: &rng)
    }

    public var architecture: ModelArchitecture { .unet }

    public func callAsFunction(_ xt: IntTensor, _ t: IntTensor, _ y: IntTensor) -> Tensor {
        precondition(
            xt.rank == 4 && xt.shape[1] == 1, "UNetX0Model: expected x_t of shape [B, 1, H, W], got \(xt.shape)")
        let (b, h, w) = (xt.shape[0], xt.shape[2], xt.shape[3])
        precondition(h % 4 == 0 && w % 4 == 0, "UNetX0Model: height and width must be multiples of 4, got \(h) x \(w)")
        precondition(
            t.shape == [b] && y.shape == [b],
            "UNetX0Model: t and y must have shape [\(b)], got \(t.shape) and \(y.shape)")
        let pixels = xt.asFloat.reshaped(b, h, w, 1) * (2 / Float(numClasses - 1)) - 1
        let x = concat([pixels, .pixelCoordinates(batch: b, height: h, width: w)], axis: 3)
        let e = silu(timeMLP2(silu(timeMLP1(sinusoidalTimeEmbedding(t, dimension: timeDimension)))) + classEmbedding(y))
        let h1 = enc1(x, e)
        let h2 = enc2(averagePool2x2(h1), e)
        let h3 = attention(enc3(averagePool2x2(h2), e))
        let d2 = dec2(up3(h3) + h2, e)
        let d1 = dec1(up2(d2) + h1, e)
        return final(d1).reshaped(b, 1, h, w, numClasses)
    }

    public mutating func visitParameters(_ body: (String, inout Tensor) -> Void) {
        timeMLP1.visitParameters { body("timeMLP1.\($0)", &$1) }
        timeMLP2.visitParameters { body("timeMLP2.\($0)", &$1) }
        classEmbedding.visitParameters { body("classEmbedding.\($0)", &$1) }
        enc1.visitParameters { body("enc1.\($0)", &$1) }
        enc2.visitParameters { body("enc2.\($0)", &$1) }
        enc3.visitParameters { body("enc3.\($0)", &$1) }
        attention.visitParameters { body("attention.\($0)", &$1) }
        up3.visitParameters { body("up3.\($0)", &$1) }
        dec2.visitParameters { body("dec2.\($0)", &$1) }
        up2.visitParameters { body("up2.\($0)", &$1) }
        dec1.visitParameters { body("dec1.\($0)", &$1) }
        final.visitParameters { body("final.\($0)", &$1) }
    }
}

/// Conv3x3 -> GroupNorm(8) -> SiLU, plus a projection of the condition
/// vector per channel, -> Conv3x3 -> GroupNorm(8) -> SiLU.
public struct ConditionedConvBlock: ParameterContainer {
    public var conv1: Conv2d
    public var norm1: GroupNorm
    public var condition: Linear
    public var conv2: Conv2d
    public var norm2: GroupNorm

    public init(_ inChannels: Int, _ outChannels: Int, condition conditionSize: Int, using rng: inout RandomGenerator) {
        conv1 = Conv2d(inChannels, outChannels, kernelSize: 3, padding: 1, using: &rng)
        norm1 = GroupNorm(groups: 8, channels: outChannels)
        condition = Linear(conditionSize, outChannels, using: &rng)
        conv2 = Conv2d(outChannels, outChannels, kernelSize: 3, padding: 1, using: &rng)
        norm2 = GroupNorm(groups: 8, channels: outChannels)
    }

    /// Applies the block to images x [B, H, W, Cin] under conditions e [B, E].
    public func callAsFunction(_ x: Tensor, _ e: Tensor) -> Tensor {
        let hidden = norm1.normalizedSiLU(conv1(x))
        let shift = condition(e).reshaped(e.shape[0], 1, 1, -1)
        return norm2.normalizedSiLU(conv2(hidden + shift))
    }

    public mutating func visitParameters(_ body: (String, inout Tensor) -> Void) {
        conv1.visitParameters { body("conv1.\($0)", &$1) }
        norm1.visitParameters { body("norm1.\($0)", &$1) }
        condition.visitParameters { body("condition.\($0)", &$1) }
        conv2.visitParameters { body("conv2.\($0)", &$1) }
        norm2.visitParameters { body("norm2.\($0)", &$1) }
    }
}
