import NN
import Testing

@testable import Tensors

/// Central finite differences of sum(f(x) * w) against autodiff, for the
/// parameters and the input of a layer.
func expectLayerGradients<L: Layer>(_ layer: L, input: Tensor, sourceLocation: SourceLocation = #_sourceLocation) {
    var rng = RandomGenerator(seed: 5)
    let weights = Tensor.uniform(layer(input).shape, low: 0.5, high: 1.5, using: &rng)
    let objective: (L, Tensor) -> Float = { layer, x in withoutGradient { (layer(x) * weights).sum().item } }
    let (_, gradient) = valueWithGradient(at: layer) { ($0(input) * weights).sum() }
    let inputGradient = Tensors.gradient(at: input) { (layer($0) * weights).sum() }
    let step: Float = 1e-2
    func check(_ numeric: Double, _ exact: Float, _ what: String) {
        #expect(
            abs(Float(numeric) - exact) <= 3e-3 + 3e-2 * abs(Float(numeric)),
            "\(what): autodiff \(exact), finite differences \(numeric)", sourceLocation: sourceLocation)
    }
    for (name, parameter) in layer.namedParameters {
        let exact = gradient.namedParameters.first { $0.name == name }!.value
        for i in stride(from: 0, to: parameter.count, by: max(1, parameter.count / 12)) {
            func shifted(_ delta: Float) -> Double {
                var copy = layer
                copy.visitParameters { n, p in
                    if n == name {
                        var v = p.scalars
                        v[i] += delta
                        p = Tensor(shape: p.shape, scalars: v)
                    }
                }
                return Double(objective(copy, input))
            }
            check((shifted(step) - shifted(-step)) / (2 * Double(step)), exact.scalars[i], "\(name)[\(i)]")
        }
    }
    for i in stride(from: 0, to: input.count, by: max(1, input.count / 12)) {
        func shifted(_ delta: Float) -> Double {
            var v = input.scalars
            v[i] += delta
            return Double(objective(layer, Tensor(shape: input.shape, scalars: v)))
        }
        check((shifted(step) - shifted(-step)) / (2 * Double(step)), inputGradient.scalars[i], "input[\(i)]")
    }
}

@Suite("Layer gradients match finite differences")
struct LayerGradientTests {
    var rng = RandomGenerator(seed: 11)

    @Test mutating func linear() {
        expectLayerGradients(Linear(5, 3, using: &rng), input: Tensor.normal([4, 5], using: &rng))
    }

    @Test mutating func convolution3x3WithPadding() {
        expectLayerGradients(
            Conv2d(3, 4, kernelSize: 3, padding: 1, using: &rng), input: Tensor.normal([2, 4, 5, 3], using: &rng))
    }

    @Test mutating func convolution1x1() {
        expectLayerGradients(Conv2d(3, 2, kernelSize: 1, using: &rng), input: Tensor.normal([2, 3, 2, 3], using: &rng))
    }

    @Test mutating func transposedConvolution() {
        expectLayerGradients(ConvTranspose2d(4, 3, using: &rng), input: Tensor.normal([2, 2, 3, 4], using: &rng))
    }

    @Test mutating func groupNorm() {
        var norm = GroupNorm(groups: 2, channels: 4)
        norm.weight = Tensor.normal([4], using: &rng)
        norm.bias = Tensor.normal([4], using: &rng)
        expectLayerGradients(norm, input: Tensor.normal([2, 3, 2, 4], using: &rng))
    }

    @Test mutating func groupNormThenSiLUFused() {
        struct NormSiLU: Layer {
            var norm: GroupNorm
            func callAsFunction(_ x: Tensor) -> Tensor { norm.normalizedSiLU(x) }
            mutating func visitParameters(_ body: (String, inout Tensor) -> Void) { norm.visitParameters(body) }
        }
        var norm = GroupNorm(groups: 2, channels: 4)
        norm.weight = Tensor.normal([4], using: &rng)
        norm.bias = Tensor.normal([4], using: &rng)
        let x = Tensor.normal([2, 3, 2, 4], using: &rng)
        #expect(allClose(norm.normalizedSiLU(x), silu(norm(x)), rtol: 1e-6, atol: 1e-6))
        expectLayerGradients(NormSiLU(norm: norm), input: x)
    }

    @Test mutating func selfAttention() {
        expectLayerGradients(
            SelfAttention(channels: 8, heads: 2, groups: 2, using: &rng),
            input: Tensor.normal([2, 2, 3, 8], using: &rng))
    }

    @Test mutating func embeddingAndPooling() {
        let table = Embedding(5, 3, using: &rng)
        let indices = IntTensor([4, 0, 4])
        let g = valueWithGradient(at: table) { $0(indices).sum() }.gradient
        #expect(g.weight.scalars == [1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2])
        struct Pool: Layer {
            func callAsFunction(_ x: Tensor) -> Tensor { averagePool2x2(x) }
            mutating func visitParameters(_ body: (String, inout Tensor) -> Void) {}
        }
        expectLayerGradients(Pool(), input: Tensor.normal([2, 4, 6, 3], using: &rng))
    }
}
