import Tensors

/// A fully connected layer y = x W^T + b (PyTorch's `nn.Linear`).
public struct Linear: Layer {
    /// Shape [out, in].
    public var weight: Tensor
    /// Shape [out].
    public var bias: Tensor

    public init(_ inFeatures: Int, _ outFeatures: Int, using rng: inout RandomGenerator) {
        (weight, bias) = defaultInitialisation(
            weightShape: [outFeatures, inFeatures], biasCount: outFeatures, fanIn: inFeatures, using: &rng)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(
            x.shape.last == weight.shape[1],
            "Linear: input of shape \(x.shape) for a layer with \(weight.shape[1]) inputs")
        return matmul(x, weight.cached(as: "Linear weight transposed") { $0.transposed() }) + bias
    }

    public mutating func visitParameters(_ body: (String, inout Tensor) -> Void) {
        body("weight", &weight)
        body("bias", &bias)
    }
}

/// A 2-D convolution with stride 1 and zero padding (PyTorch's `nn.Conv2d`),
/// on channels-last images [B, H, W, C]. The weight keeps PyTorch's layout
/// [out, in, k, k], so checkpoints are interchangeable.
public struct Conv2d: Layer {
    public var weight: Tensor
    public var bias: Tensor
    public let padding: Int

    public init(
        _ inChannels: Int, _ outChannels: Int, kernelSize: Int, padding: Int = 0, using rng: inout RandomGenerator
    ) {
        (weight, bias) = defaultInitialisation(
            weightShape: [outChannels, inChannels, kernelSize, kernelSize], biasCount: outChannels,
            fanIn: inChannels * kernelSize * kernelSize, using: &rng)
        self.padding = padding
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let (out, inChannels, k) = (weight.shape[0], weight.shape[1], weight.shape[2])
        precondition(
            x.rank == 4 && x.shape[3] == inChannels,
            "Conv2d: input of shape \(x.shape) for a layer with \(inChannels) input channels (expected [B, H, W, \(inChannels)])"
        )
        let (b, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        let oh = h + 2 * padding - k + 1, ow = w + 2 * padding - k + 1
        // Rows (dy, dx, c) of the patches meet weight[o, c, dy, dx].
        let kernel = weight.cached(as: "Conv2d kernel [k * k * in, out]") {
            $0.permuted(2, 3, 1, 0).reshaped(k * k * inChannels, out)
        }
        if k == 3 && padding == 1 {
            return x.convolved3x3(with: kernel, bias: bias)
        }
        let rows = k == 1 && padding == 0 ? x.reshaped(-1, inChannels) : x.patches(kernelSize: k, padding: padding)
        return (matmul(rows, kernel) + bias).reshaped(b, oh, ow, out)
    }

    public mutating func visitParameters(_ body: (String, inout Tensor) -> Void) {
        body("weight", &weight)
        body("bias", &bias)
    }
}

/// A transposed convolution with kernel 2 and stride 2, which doubles the
/// height and width (PyTorch's `nn.ConvTranspose2d(cin, cout, 2, stride: 2)`),
/// on channels-last images. The weight keeps PyTorch's layout [in, out, 2, 2].
public struct ConvTranspose2d: Layer {
    public var weight: Tensor
    public var bias: Tensor

    public init(_ inChannels: Int, _ outChannels: Int, using rng: inout RandomGenerator) {
        // PyTorch computes fan_in from dimension 1 of this weight: out * 2 * 2.
        (weight, bias) = defaultInitialisation(
            weightShape: [inChannels, outChannels, 2, 2], biasCount: outChannels, fanIn: outChannels * 4, using: &rng)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let (inChannels, out) = (weight.shape[0], weight.shape[1])
        precondition(
            x.rank == 4 && x.shape[3] == inChannels,
            "ConvTranspose2d: input of shape \(x.shape) for a layer with \(inChannels) input channels")
        let (b, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        // Each input pixel becomes a 2 x 2 block: out[2y + dy, 2x + dx, o] = sum_c x[y, x, c] W[c, o, dy, dx].
        let kernel = weight.cached(as: "ConvTranspose2d kernel [in, 2 * 2 * out]") {
            $0.permuted(0, 2, 3, 1).reshaped(inChannels, 4 * out)
        }
        let blocks = matmul(x.reshaped(-1, inChannels), kernel).reshaped(b, h, w, 2, 2, out)
        return blocks.spreadingBlocks2x2(bias: bias)
    }

    public mutating func visitParameters(_ body: (String, inout Tensor) -> Void) {
        body("weight", &weight)
        body("bias", &bias)
    }
}

/// Group normalisation over channels-last images (PyTorch's `nn.GroupNorm`):
/// each image's channels are split into groups, each group normalised over
/// its pixels and channels, then scaled and shifted per channel.
public struct GroupNorm: Layer {
    public var weight: Tensor
    public var bias: Tensor
    public let groups: Int
    public let epsilon: Float

    public init(groups: Int, channels: Int, epsilon: Float = 1e-5) {
        precondition(channels % groups == 0, "GroupNorm: \(channels) channels do not split into \(groups) groups")
        weight = Tensor.ones([channels])
        bias = Tensor.zeros([channels])
        self.groups = groups
        self.epsilon = epsilon
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(
            x.rank == 4 && x.shape[3] == weight.count,
            "GroupNorm: input of shape \(x.shape) for \(weight.count) channels")
        return groupNorm(x, groups: groups, weight: weight, bias: bias, epsilon: epsilon)
    }

    /// `silu(self(x))` in one fused pass (``groupNormSiLU(_:groups:weight:bias:epsilon:)``).
    public func normalizedSiLU(_ x: Tensor) -> Tensor {
        precondition(
            x.rank == 4 && x.shape[3] == weight.count,
            "GroupNorm: input of shape \(x.shape) for \(weight.count) channels")
        return groupNormSiLU(x, groups: groups, weight: weight, bias: bias, epsilon: epsilon)
    }

    public mutating func visitParameters(_ body: (String, inout Tensor) -> Void) {
        body("weight", &weight)
        body("bias", &bias)
    }
}

/// A lookup table of learned vectors (PyTorch's `nn.Embedding`), initialised N(0, 1).
public struct Embedding: ParameterContainer {
    /// Shape [count, dimension].
    public var weight: Tensor

    public init(_ count: Int, _ dimension: Int, using rng: inout RandomGenerator) {
        weight = Tensor.normal([count, dimension], using: &rng)
    }

    /// The vectors of `indices`, shape indices.shape + [dimension].
    public func callAsFunction(_ indices: IntTensor) -> Tensor { weight[indices] }

    public mutating func visitParameters(_ body: (String, inout Tensor) -> Void) {
        body("weight", &weight)
    }
}

/// 2 x 2 average pooling of channels-last images (PyTorch's `nn.AvgPool2d(2)`).
public func averagePool2x2(_ x: Tensor) -> Tensor {
    precondition(
        x.rank == 4 && x.shape[1] % 2 == 0 && x.shape[2] % 2 == 0,
        "averagePool2x2: expected [B, H, W, C] with even H and W, got \(x.shape)")
    return x.averagePooled2x2()
}

/// The sinusoidal embedding of time steps: with half = dimension / 2 and
/// freq_i = exp(-ln(10000) i / half), the concatenation of sin(t freq) and
/// cos(t freq). Shape [B, dimension].
public func sinusoidalTimeEmbedding(_ t: IntTensor, dimension: Int) -> Tensor {
    precondition(
        dimension % 2 == 0 && dimension > 0,
        "sinusoidalTimeEmbedding: dimension must be even and positive, got \(dimension)")
    let half = dimension / 2
    let lnTenThousand: Float = 9.210340371976184  // ln(10000)
    let frequencies = exp(Tensor.arange(half) * (-lnTenThousand / Float(half)))
    let angles = t.asFloat.reshaped(-1, 1) * frequencies
    return concat([sin(angles), cos(angles)], axis: 1)
}
