import D3PM
import Tensors

extension ReferenceSolutions {
    public static func qSkipPosteriorLogits(
        x0Logits: Tensor, xt: IntTensor, from t: Int, to s: Int, qOnestep: Tensor, qCumulative: Tensor
    ) -> Tensor {
        precondition(
            0 <= s && s < t && t <= qOnestep.shape[0],
            "qSkipPosteriorLogits: need 0 <= s < t <= T, got s = \(s), t = \(t)")
        if s == 0 { return x0Logits }
        let k = qOnestep.shape[1], eps = D3PMConstants.logEpsilon
        // Q_{s+1:t} = Q_{s+1} ... Q_t (step r at index r - 1).
        var jump = qOnestep[s]
        for index in (s + 1)..<t { jump = matmul(jump, qOnestep[index]) }
        // Column x_t of Q_{s+1:t}, per pixel: q(x_t | x_s) for every x_s.
        let likelihood = jump.transposed()[xt]
        let p0 = softmax(x0Logits, axis: -1)
        let prior = matmul(p0.reshaped(-1, k), qCumulative[s - 1]).reshaped(p0.shape)
        return log(likelihood + eps) + log(prior + eps)
    }
}
