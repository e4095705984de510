import Foundation
import NN
import Testing

@testable import Tensors

@Suite("Layer values")
struct LayerValueTests {
    /// A direct convolution on channels-last images with PyTorch's weight layout.
    func naiveConvolution(_ x: Tensor, weight: Tensor, bias: Tensor, padding: Int) -> Tensor {
        let (b, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (o, k) = (weight.shape[0], weight.shape[2])
        let oh = h + 2 * padding - k + 1, ow = w + 2 * padding - k + 1
        var out = [Float](repeating: 0, count: b * oh * ow * o)
        for n in 0..<b {
            for y in 0..<oh {
                for xx in 0..<ow {
                    for f in 0..<o {
                        var sum = bias.scalars[f]
                        for dy in 0..<k {
                            for dx in 0..<k {
                                let sy = y + dy - padding, sx = xx + dx - padding
                                guard sy >= 0, sy < h, sx >= 0, sx < w else { continue }
                                for ch in 0..<c { sum += x[at: n, sy, sx, ch] * weight[at: f, ch, dy, dx] }
                            }
                        }
                        out[((n * oh + y) * ow + xx) * o + f] = sum
                    }
                }
            }
        }
        return Tensor(shape: [b, oh, ow, o], scalars: out)
    }

    @Test func convolutionMatchesTheDefinitionOnANonSquareImage() {
        var rng = RandomGenerator(seed: 1)
        let conv = Conv2d(3, 5, kernelSize: 3, padding: 1, using: &rng)
        let x = Tensor.normal([2, 5, 7, 3], using: &rng)
        #expect(
            allClose(
                conv(x), naiveConvolution(x, weight: conv.weight, bias: conv.bias, padding: 1), rtol: 1e-4, atol: 1e-5))
    }

    @Test func transposedConvolutionPlacesEachPixelInA2x2Block() {
        var rng = RandomGenerator(seed: 2)
        let layer = ConvTranspose2d(2, 3, using: &rng)
        let x = Tensor.normal([1, 2, 3, 2], using: &rng)
        let y = layer(x)
        #expect(y.shape == [1, 4, 6, 3])
        // out[2i + dy, 2j + dx, o] = sum_c x[i, j, c] W[c, o, dy, dx] + b[o]
        let (i, j, dy, dx, o) = (1, 2, 1, 0, 2)
        let expected = (0..<2).reduce(layer.bias.scalars[o]) {
            $0 + x[at: 0, i, j, $1] * layer.weight[at: $1, o, dy, dx]
        }
        #expect(abs(y[at: 0, 2 * i + dy, 2 * j + dx, o] - expected) < 1e-5)
    }

    @Test func selfAttentionMatchesTheDefinitionPerHead() {
        var rng = RandomGenerator(seed: 8)
        let layer = SelfAttention(channels: 4, heads: 2, groups: 2, using: &rng)
        let x = Tensor.normal([2, 2, 3, 4], using: &rng)
        let y = layer(x)
        // x + proj(concat over heads of softmax(q k^T / sqrt(d)) v), per image, in Double.
        let normed = layer.norm(x).reshaped(2, 6, 4)
        let (w, bias) = (layer.qkv.weight, layer.qkv.bias)
        for b in 0..<2 {
            func projected(_ row: Int, _ n: Int) -> Double {
                (0..<4).reduce(Double(bias.scalars[row])) { $0 + Double(w[at: row, $1]) * Double(normed[at: b, n, $1]) }
            }
            var attended = [[Double]](repeating: [Double](repeating: 0, count: 4), count: 6)
            for head in 0..<2 {
                for i in 0..<6 {
                    let scores = (0..<6).map { j in
                        (0..<2).reduce(0.0) { $0 + projected(2 * head + $1, i) * projected(4 + 2 * head + $1, j) }
                            / 2.0.squareRoot()
                    }
                    let weights = scores.map { Foundation.exp($0 - scores.max()!) }, total = weights.reduce(0, +)
                    for c in 0..<2 {
                        attended[i][2 * head + c] = (0..<6).reduce(0.0) {
                            $0 + weights[$1] / total * projected(8 + 2 * head + c, $1)
                        }
                    }
                }
            }
            for i in 0..<6 {
                for o in 0..<4 {
                    let out = (0..<4).reduce(Double(layer.proj.bias.scalars[o])) {
                        $0 + Double(layer.proj.weight[at: o, $1]) * attended[i][$1]
                    }
                    let expected = Double(x[at: b, i / 3, i % 3, o]) + out
                    #expect(
                        abs(Double(y[at: b, i / 3, i % 3, o]) - expected) < 1e-4, "image \(b) pixel \(i) channel \(o)")
                }
            }
        }
    }

    /// Channel counts that take the general loop and the register paths.
    @Test(arguments: [8, 32, 64, 48])
    func groupNormNormalisesEachGroupOfEachImage(channels: Int) {
        var rng = RandomGenerator(seed: 3)
        let x = 3 * Tensor.normal([2, 4, 4, channels], using: &rng) + 5
        let y = GroupNorm(groups: 4, channels: channels)(x).reshaped(2, 16, 4, channels / 4)
        let mean = y.mean(axes: [1, 3]), variance = y.squared().mean(axes: [1, 3])
        #expect(allClose(mean, Tensor.zeros([2, 4]), atol: 1e-4))
        #expect(allClose(variance, Tensor.ones([2, 4]), rtol: 1e-3, atol: 1e-3))
    }

    @Test func pyTorchDefaultInitialisationBounds() {
        var rng = RandomGenerator(seed: 4)
        let conv = Conv2d(32, 64, kernelSize: 3, padding: 1, using: &rng)
        let bound = 1 / Float(32 * 9).squareRoot()
        #expect(conv.weight.scalars.allSatisfy { abs($0) <= bound } && conv.weight.max().item > 0.9 * bound)
        let up = ConvTranspose2d(64, 32, using: &rng)
        #expect(up.weight.shape == [64, 32, 2, 2] && up.weight.max().item <= 1 / Float(32 * 4).squareRoot())
        let norm = GroupNorm(groups: 8, channels: 32)
        #expect(norm.weight.scalars.allSatisfy { $0 == 1 } && norm.bias.scalars.allSatisfy { $0 == 0 })
        let embedding = Embedding(10, 1000, using: &rng)
        #expect(abs(embedding.weight.mean().item) < 0.1 && abs(embedding.weight.squared().mean().item - 1) < 0.1)
    }

    @Test func timeEmbeddingIsSinesThenCosines() {
        let e = sinusoidalTimeEmbedding(IntTensor([0, 7]), dimension: 6)
        #expect(e.shape == [2, 6])
        let frequencies = (0..<3).map { exp(-log(10000.0) * Double($0) / 3) }
        for (i, f) in frequencies.enumerated() {
            #expect(abs(Double(e[at: 1, i]) - sin(7 * f)) < 1e-5)
            #expect(abs(Double(e[at: 1, 3 + i]) - cos(7 * f)) < 1e-5)
        }
        #expect(e[at: 0, 0] == 0 && e[at: 0, 3] == 1)
    }
}

@Suite("AdamW and clipping")
struct OptimizerTests {
    struct One: ParameterContainer {
        var p: Tensor
        mutating func visitParameters(_ body: (String, inout Tensor) -> Void) { body("p", &p) }
    }

    @Test func adamWFollowsPyTorchsUpdateRule() {
        // Two steps by hand with lr 0.1, weight decay 0.01, gradients 0.5 then -1.
        var model = One(p: Tensor([1]))
        var optimizer = AdamW(learningRate: 0.1, weightDecay: 0.01)
        var p = 1.0, m = 0.0, v = 0.0
        for (t, g) in [0.5, -1.0].enumerated() {
            optimizer.update(&model, along: One(p: Tensor([Float(g)])))
            p -= 0.1 * 0.01 * p
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g * g
            let c1 = 1 - pow(0.9, Double(t + 1)), c2 = 1 - pow(0.999, Double(t + 1))
            p -= 0.1 / c1 * m / (v.squareRoot() / c2.squareRoot() + 1e-8)
            #expect(abs(Double(model.p.item) - p) < 1e-6, "step \(t + 1)")
        }
        #expect(optimizer.step == 2)
    }

    @Test func clippingScalesTheGlobalNorm() {
        var g = One(p: Tensor([3, 4]))
        let norm = clipGradientNorm(&g, maxNorm: 1)
        #expect(abs(norm - 5) < 1e-6)
        #expect(allClose(g.p, Tensor([0.6, 0.8]), rtol: 1e-5))
        var small = One(p: Tensor([0.3, 0.4]))
        clipGradientNorm(&small, maxNorm: 1)
        #expect(small.p.scalars == [0.3, 0.4])
    }
}

@Suite("Safetensors")
struct SafetensorsTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("d3pm-safetensors-\(UUID().uuidString)")

    @Test func roundTripKeepsEveryBit() throws {
        var rng = RandomGenerator(seed: 9)
        let a = Tensor.normal([3, 4], using: &rng), b = Tensor([Float.pi, -0.0, 1e-30])
        let url = folder.appendingPathComponent("t.safetensors")
        try Safetensors.write([("a", a), ("b.c", b)], metadata: ["step": "7"], to: url)
        let (tensors, metadata) = try Safetensors.read(from: url)
        #expect(tensors["a"]?.scalars.map(\.bitPattern) == a.scalars.map(\.bitPattern))
        #expect(tensors["b.c"]?.scalars.map(\.bitPattern) == b.scalars.map(\.bitPattern))
        #expect(tensors["a"]?.shape == [3, 4] && metadata["step"] == "7")
        let bytes = try Data(contentsOf: url)
        let headerLength = Int(bytes[0]) | Int(bytes[1]) << 8
        #expect((8 + headerLength) % 8 == 0)
        try? FileManager.default.removeItem(at: folder)
    }

    @Test func truncatedAndForeignFilesAreRejectedByName() throws {
        let url = folder.appendingPathComponent("t.safetensors")
        try Safetensors.write([("a", Tensor.ones([100]))], to: url)
        let bytes = try Data(contentsOf: url)
        try bytes.prefix(bytes.count - 10).write(to: url)
        #expect { try Safetensors.read(from: url) } throws: { error in
            "\(error)".contains(url.path) && "\(error)".contains("truncated")
        }
        try Data("hello".utf8).write(to: url)
        #expect { try Safetensors.read(from: url) } throws: { "\($0)".contains("shorter than a safetensors header") }
        try? FileManager.default.removeItem(at: folder)
    }
}
