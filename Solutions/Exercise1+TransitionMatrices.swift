import D3PM
import Tensors

extension ReferenceSolutions {
    public static func makeUniformQOnestep(numClasses: Int, betas: Tensor) -> Tensor {
        let k = numClasses
        let beta = betas.reshaped(-1, 1, 1)
        return (1 - beta) * Tensor.eye(k) + beta / Float(k) * Tensor.ones([k, k])
    }

    public static func cumulativeQ(_ qOnestep: Tensor) -> Tensor {
        var products = [qOnestep[0]]
        for t in 1..<qOnestep.shape[0] {
            products.append(matmul(products[t - 1], qOnestep[t]))
        }
        return stack(products)
    }
}
