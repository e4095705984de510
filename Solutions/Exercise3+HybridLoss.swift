import D3PM
import Tensors

extension ReferenceSolutions {
    public static func vb(_ logits1: Tensor, _ logits2: Tensor) -> Tensor {
        let logP = logSoftmax(logits1, axis: -1)
        let logQ = logSoftmax(logits2, axis: -1)
        return (exp(logP) * (logP - logQ)).sum(axis: -1).mean()
    }

    public static func hybridLoss(
        modelLogits: Tensor, x0: IntTensor, xt: IntTensor, t: IntTensor,
        matrices: TransitionMatrices, lambda: Float, weighting: LossWeighting
    ) -> HybridLossTerms {
        let trueLogits = qPosteriorLogits(
            x0: x0, xt: xt, t: t, qOnestepTransposed: matrices.qOnestepTransposed, qCumulative: matrices.qCumulative)
        let modelPosterior = qPosteriorLogits(
            x0Logits: modelLogits, xt: xt, t: t, qOnestepTransposed: matrices.qOnestepTransposed,
            qCumulative: matrices.qCumulative)
        let vbTerm = vb(trueLogits, modelPosterior)
        let ce = crossEntropy(modelLogits, targets: x0)
        let loss =
            switch weighting {
            case .practical: lambda * vbTerm + ce
            case .paper: vbTerm + lambda * ce
            }
        return HybridLossTerms(loss: loss, vb: vbTerm, ce: ce)
    }
}
