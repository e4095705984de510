import Tensors

/// A layer or a model: a function of a tensor with trainable parameters.
///
/// Layers are value types. Their parameters are reached by name through
/// ``ParameterContainer/visitParameters(_:)``, which is what gradients
/// (``valueWithGradient(at:in:)``), the optimiser and checkpoints use; the
/// names follow PyTorch's `state_dict` (`down1.0.weight`).
public protocol Layer: ParameterContainer {
    /// Applies the layer.
    func callAsFunction(_ input: Tensor) -> Tensor
}

/// PyTorch's default initialisation of a weight and its bias: uniform in
/// ±1/sqrt(fan_in) (Kaiming-uniform with a = sqrt(5) gives this bound).
func defaultInitialisation(weightShape: [Int], biasCount: Int, fanIn: Int, using rng: inout RandomGenerator) -> (
    Tensor, Tensor
) {
    let bound = 1 / Float(fanIn).squareRoot()
    let weight = Tensor.uniform(weightShape, low: -bound, high: bound, using: &rng)
    let bias = Tensor.uniform([biasCount], low: -bound, high: bound, using: &rng)
    return (weight, bias)
}
