import D3PM
import Tensors

extension ReferenceSolutions {
    public static func makeAbsorbingQOnestep(numClasses: Int, betas: Tensor) -> Tensor {
        let states = numClasses + 1
        let beta = betas.reshaped(-1, 1, 1)
        // Every row sends beta_t to the last column, the [MASK] state; its own row stays put.
        let toMask = Tensor(
            shape: [states, states], scalars: (0..<(states * states)).map { $0 % states == numClasses ? 1 : 0 })
        return (1 - beta) * Tensor.eye(states) + beta * toMask
    }
}
