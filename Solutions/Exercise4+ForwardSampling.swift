import D3PM
import Tensors

extension ReferenceSolutions {
    public static func qSample(x0: IntTensor, t: IntTensor, noise: Tensor, qCumulative: Tensor) -> IntTensor {
        let probabilities = gatherAt(qCumulative, t: t, x: x0)
        return gumbelMaxSample(log(probabilities + D3PMConstants.logEpsilon), noise: noise)
    }
}
