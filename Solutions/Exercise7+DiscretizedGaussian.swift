import D3PM
import Tensors

extension ReferenceSolutions {
    public static func makeGaussianQOnestep(numClasses: Int, betas: Tensor) -> Tensor {
        let k = numClasses
        let scale = Float((k - 1) * (k - 1))
        let squaredOffsets = Tensor(
            shape: [1, k, k],
            scalars: (0..<(k * k)).map { index in
                let d = Float(index / k - index % k)
                return d * d
            })
        let beta = betas.reshaped(-1, 1, 1)
        let n = Tensor((-(k - 1)...(k - 1)).map { Float($0 * $0) }).reshaped(1, 1, -1)
        let normaliser = exp(-4 * n / (scale * beta)).sum(axis: -1, keepDims: true)
        let offDiagonal = exp(-4 * squaredOffsets / (scale * beta)) / normaliser * (1 - Tensor.eye(k))
        return offDiagonal + Tensor.eye(k) * (1 - offDiagonal.sum(axis: -1, keepDims: true))
    }
}
