import Testing

@testable import Tensors

/// Compares the gradient from automatic differentiation with central finite
/// differences, element by element.
///
/// The function is reduced to a scalar as sum(f(x) * w) with fixed random
/// weights w, so that every output element counts with its own weight: a
/// wrong sign, a dropped term or a missing broadcast reduction shows.
func expectGradientsMatchFiniteDifferences(
    _ inputs: [Tensor], step: Float = 1e-2, rtol: Float = 2e-2, atol: Float = 2e-3,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ function: @escaping ([Tensor]) -> Tensor
) {
    var rng = RandomGenerator(seed: 99)
    let probe = function(inputs.map { $0.detached() })
    let weights = Tensor.uniform(probe.shape, low: 0.5, high: 1.5, using: &rng)
    let objective: ([Tensor]) -> Tensor = { xs in (function(xs) * weights).sum() }
    let (_, analytic) = valueWithGradient(at: inputs, in: objective)
    for (index, input) in inputs.enumerated() {
        #expect(
            analytic[index].shape == input.shape, "gradient shape for input \(index)", sourceLocation: sourceLocation)
        for element in 0..<input.count {
            func evaluate(_ delta: Float) -> Double {
                var shifted = inputs
                shifted[index].scalars[element] += delta
                return Double(withoutGradient { objective(shifted) }.item)
            }
            let numeric = Float((evaluate(step) - evaluate(-step)) / (2 * Double(step)))
            let exact = analytic[index].scalars[element]
            #expect(
                abs(numeric - exact) <= atol + rtol * abs(numeric),
                "input \(index), element \(element): autodiff \(exact), finite differences \(numeric)",
                sourceLocation: sourceLocation)
        }
    }
}

/// Whether `a` matches `b` everywhere to `tolerance` times b's root mean
/// square: for results whose rounding scales with the whole output, not with
/// each value (Winograd's transforms mix the pixels of a tile, so a small
/// output next to large ones carries their rounding). A wrong term is off by
/// the output's own scale, far beyond any such tolerance.
func closeRelativeToScale(_ a: Tensor, _ b: Tensor, tolerance: Float) -> Bool {
    guard a.shape == b.shape else { return false }
    let scale = (b.scalars.reduce(0) { $0 + Double($1) * Double($1) } / Double(max(b.count, 1))).squareRoot()
    return zip(a.scalars, b.scalars).allSatisfy { Double(abs($0 - $1)) <= Double(tolerance) * scale }
}

func randomTensor(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    return Tensor.uniform(shape, low: low, high: high, using: &rng)
}
