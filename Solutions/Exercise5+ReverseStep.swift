import D3PM
import Tensors

extension ReferenceSolutions {
    public static func pSample(
        model: X0Predictor, xt: IntTensor, t: IntTensor, y: IntTensor,
        matrices: TransitionMatrices, noise: Tensor
    ) -> IntTensor {
        let x0Logits = model(xt, t, y)
        let logits = qPosteriorLogits(
            x0Logits: x0Logits, xt: xt, t: t,
            qOnestepTransposed: matrices.qOnestepTransposed, qCumulative: matrices.qCumulative)
        let sampled = gumbelMaxSample(logits, noise: noise)
        let mostLikely = logits.argmax(axis: -1)
        return `where`(t.perBatch(rank: xt.rank) .== 1, mostLikely, sampled)
    }
}
