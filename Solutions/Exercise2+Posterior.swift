import D3PM
import Tensors

extension ReferenceSolutions {
    public static func gatherAt(_ a: Tensor, t: IntTensor, x: IntTensor) -> Tensor {
        a[(t - 1).perBatch(rank: x.rank), x]
    }

    public static func qPosteriorLogits(
        x0: IntTensor, xt: IntTensor, t: IntTensor, qOnestepTransposed: Tensor, qCumulative: Tensor
    ) -> Tensor {
        let k = qCumulative.shape[1]
        let p0 = oneHot(x0, numClasses: k)
        return posteriorLogits(
            x0Probabilities: p0, x0Logits: log(p0 + D3PMConstants.logEpsilon), xt: xt, t: t,
            qOnestepTransposed: qOnestepTransposed, qCumulative: qCumulative)
    }

    public static func qPosteriorLogits(
        x0Logits: Tensor, xt: IntTensor, t: IntTensor, qOnestepTransposed: Tensor, qCumulative: Tensor
    ) -> Tensor {
        posteriorLogits(
            x0Probabilities: softmax(x0Logits, axis: -1), x0Logits: x0Logits, xt: xt, t: t,
            qOnestepTransposed: qOnestepTransposed, qCumulative: qCumulative)
    }

    /// log Q_t[:, x_t] + log(p(x0) Q_{1:t-1}), or the x0 logits where t == 1.
    private static func posteriorLogits(
        x0Probabilities: Tensor, x0Logits: Tensor, xt: IntTensor, t: IntTensor,
        qOnestepTransposed: Tensor, qCumulative: Tensor
    ) -> Tensor {
        let eps = D3PMConstants.logEpsilon
        let likelihood = gatherAt(qOnestepTransposed, t: t, x: xt)
        let previous = IntTensor(shape: t.shape, scalars: t.scalars.map { max($0 - 2, 0) })
        let prior = vecmat(x0Probabilities, qCumulative[previous])
        let logits = log(likelihood + eps) + log(prior + eps)
        let isFirstStep = t.perBatch(rank: xt.rank + 1) .== 1
        return `where`(isFirstStep, x0Logits, logits)
    }

    public static func gumbelMaxSample(_ logits: Tensor, noise: Tensor) -> IntTensor {
        precondition(
            noise.shape == logits.shape,
            "gumbelMaxSample: noise of shape \(noise.shape) for logits of shape \(logits.shape)")
        let eps = D3PMConstants.gumbelEpsilon
        let u = noise.clamped(min: eps, max: 1 - eps)
        let gumbel = -log(-log(u))
        return (logits.detached() + gumbel).argmax(axis: -1)
    }
}
