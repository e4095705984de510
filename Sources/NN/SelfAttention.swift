import Tensors

/// Multi-head self-attention over the pixels of channels-last images, with a
/// residual connection: x + proj(attention(GroupNorm(x))).
///
/// Every pixel attends to every other, so one such layer at a low resolution
/// gives each pixel the context of the whole image, which convolutions reach
/// only through many layers.
public struct SelfAttention: Layer {
    public var norm: GroupNorm
    /// Queries, keys and values in one product: [3C, C].
    public var qkv: Linear
    public var proj: Linear
    public let heads: Int

    public init(channels: Int, heads: Int = 4, groups: Int = 8, using rng: inout RandomGenerator) {
        precondition(channels % heads == 0, "SelfAttention: \(channels) channels do not split into \(heads) heads")
        norm = GroupNorm(groups: groups, channels: channels)
        qkv = Linear(channels, 3 * channels, using: &rng)
        proj = Linear(channels, channels, using: &rng)
        self.heads = heads
    }

    /// Applies the layer to x [B, H, W, C].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(
            x.rank == 4 && x.shape[3] == proj.weight.shape[0],
            "SelfAttention: input of shape \(x.shape) for \(proj.weight.shape[0]) channels (expected [B, H, W, C])")
        let (b, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (n, d) = (h * w, c / heads)
        // [B, N, 3, heads, d] -> three [B, heads, N, d].
        let projected = qkv(norm(x).reshaped(b * n, c)).reshaped(b, n, 3, heads, d).permuted(2, 0, 3, 1, 4)
        let query = projected.slice(axis: 0, 0..<1).reshaped(b * heads, n, d)
        let key = projected.slice(axis: 0, 1..<2).reshaped(b * heads, n, d)
        let value = projected.slice(axis: 0, 2..<3).reshaped(b * heads, n, d)
        let weights = softmax(matmul(query, key.transposed()) * (1 / Float(d).squareRoot()), axis: -1)
        let attended = matmul(weights, value).reshaped(b, heads, n, d).permuted(0, 2, 1, 3).reshaped(b * n, c)
        return x + proj(attended).reshaped(b, h, w, c)
    }

    public mutating func visitParameters(_ body: (String, inout Tensor) -> Void) {
        norm.visitParameters { body("norm.\($0)", &$1) }
        qkv.visitParameters { body("qkv.\($0)", &$1) }
        proj.visitParameters { body("proj.\($0)", &$1) }
    }
}
