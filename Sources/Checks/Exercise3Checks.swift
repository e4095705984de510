import D3PM
import Foundation
import Tensors

/// Exercise 3: the KL term and the hybrid loss.
enum Exercise3Checks {
    static let p: [[Double]] = [[0.7, 0.2, 0.1], [0.05, 0.05, 0.9]]
    static let q: [[Double]] = [[0.2, 0.3, 0.5], [0.3, 0.4, 0.3]]

    static func logits(_ rows: [[Double]], shift: Double = 0) -> Tensor {
        Tensor(shape: [rows.count, rows[0].count], scalars: rows.flatMap { $0.map { Float(log($0) + shift) } })
    }

    static func meanKL(_ a: [[Double]], _ b: [[Double]]) -> Double {
        zip(a, b).reduce(0) { $0 + BruteForce.kl($1.0, $1.1) } / Double(a.count)
    }

    /// The exact VB and CE of a hybrid-loss example, from Bayes' rule.
    static func exactTerms(process: RandomProcess, modelLogits: Tensor, x0: IntTensor, xt: IntTensor, t: IntTensor) -> (vb: Double, ce: Double) {
        let k = process.numClasses
        let oneHots = x0.scalars.map { c in (0..<k).map { $0 == c ? 1.0 : 0.0 } }
        let modelP0 = BruteForce.rows(modelLogits).map(BruteForce.softmax)
        let truePosterior = process.posteriors(p0: oneHots, xt: xt, t: t)
        let modelPosterior = process.posteriors(p0: modelP0, xt: xt, t: t)
        let positions = x0.count
        var vb = 0.0
        for i in 0..<positions {
            let a = Array(truePosterior[(i * k)..<((i + 1) * k)]), b = Array(modelPosterior[(i * k)..<((i + 1) * k)])
            vb += BruteForce.kl(a, b)
        }
        let ce = (0..<positions).reduce(0.0) { $0 - log(modelP0[$1][x0.scalars[$1]]) } / Double(positions)
        return (vb / Double(positions), ce)
    }

    struct Example {
        let process: RandomProcess
        let modelLogits: Tensor, x0: IntTensor, xt: IntTensor, t: IntTensor

        init(seed: UInt64) {
            process = RandomProcess(seed: seed)
            var rng = RandomGenerator(seed: seed &+ 301)
            t = IntTensor([1, 3, 4])
            x0 = IntTensor.random([3, 1, 2, 2], in: 0..<3, using: &rng)
            xt = IntTensor.random([3, 1, 2, 2], in: 0..<3, using: &rng)
            modelLogits = Tensor.normal([3, 1, 2, 2, 3], using: &rng)
        }

        func loss(_ ex: D3PMExercises.Type, logits: Tensor, lambda: Float, weighting: LossWeighting) -> HybridLossTerms {
            ex.hybridLoss(modelLogits: logits, x0: x0, xt: xt, t: t, matrices: process.matrices, lambda: lambda, weighting: weighting)
        }
    }

    static let all: [Check] = [
        Check(.exercise3, "kl-closed-form", "vb matches the KL divergence of two known distributions",
              points: 2, hint: "KL(p || q) = sum_k p_k (log p_k - log q_k), summed over the last axis and averaged over positions.") { ex, _ in
            let value = ex.vb(logits(p), logits(q))
            try Expect.that(value.count == 1, expected: "a scalar", actual: "shape \(value.shape)", hint: "Average the per-position KL with mean().")
            let expected = meanKL(p, q)
            try Expect.close([Double(value.item)], [expected], of: "vb(log p, log q) for p = \(p), q = \(q)", atol: 1e-5, rtol: 1e-4,
                             hint: "KL(p || q) = sum_k p_k (log p_k - log q_k), summed over classes, averaged over positions.", knownBugs: [
                KnownBug(values: [meanKL(q, p)], hint: "You computed KL(q || p): the arguments are swapped. The KL is not symmetric; vb(logits1, logits2) = KL(softmax(logits1) || softmax(logits2))."),
                KnownBug(values: [-expected], hint: "Your KL has the wrong sign: sum p (log p - log q) >= 0."),
                KnownBug(values: [-meanKL(q, p)], hint: "Your KL has the wrong sign and swapped arguments."),
                KnownBug(values: [expected * Double(p.count)], hint: "Average over positions (mean), do not sum them."),
                KnownBug(values: [expected / 3], hint: "Sum over the class axis, then average over positions: a mean over everything divides by K too."),
            ])
        },
        Check(.exercise3, "kl-zero-and-nonnegative", "vb(l, l + c) = 0 (same softmax) and vb >= 0 on random logits",
              hint: "Use logSoftmax for both sides: adding a constant to every logit changes nothing.") { ex, seed in
            var rng = RandomGenerator(seed: seed &+ 302)
            let l = 3 * Tensor.normal([4, 5, 4], using: &rng)
            let same = ex.vb(l, l + 1).item
            try Expect.that(abs(same) < 1e-5, expected: "vb(l, l + 1) = 0 within 1e-5 (softmax ignores a constant shift)",
                            actual: Expect.format(Double(same)),
                            hint: "Turn logits into log-probabilities with logSoftmax before comparing them. (The original practical checked vb(l, l + 1) > 0, which is wrong: it is exactly 0.)")
            for trial in 0..<5 {
                let a = 2 * Tensor.normal([3, 4], using: &rng), b = 2 * Tensor.normal([3, 4], using: &rng)
                let value = ex.vb(a, b).item
                try Expect.that(value >= -1e-6, expected: "vb >= 0 for random logits", actual: "\(Expect.format(Double(value))) on trial \(trial)",
                                hint: "The KL divergence is never negative: check the sign and which distribution weights the sum.")
            }
        },
        Check(.exercise3, "kl-gradient", "the gradient of vb matches finite differences in both arguments",
              hint: "Write vb with differentiable operations only; keep both arguments tracked (no detached()).") { ex, seed in
            var rng = RandomGenerator(seed: seed &+ 303)
            let a = Tensor.normal([2, 3], using: &rng), b = Tensor.normal([2, 3], using: &rng)
            let (_, grads) = valueWithGradient(at: [a, b]) { ex.vb($0[0], $0[1]) }
            let numericA = finiteDifferenceGradient(at: a) { x in withoutGradient { ex.vb(x, b) } }
            let numericB = finiteDifferenceGradient(at: b) { x in withoutGradient { ex.vb(a, x) } }
            try Expect.close(grads[0].doubles, numericA, of: "d vb / d logits1", atol: 2e-3, rtol: 2e-2,
                             hint: "The gradient with respect to logits1 is missing or wrong: keep logits1 differentiable.")
            try Expect.close(grads[1].doubles, numericB, of: "d vb / d logits2", atol: 2e-3, rtol: 2e-2,
                             hint: "The gradient with respect to logits2 is missing or wrong: keep logits2 differentiable.")
        },
        Check(.exercise3, "hybrid-loss-terms", "vb, ce and the loss match Bayes' rule and both weightings",
              points: 3, hint: "vb between the true posterior (from x0) and the model's (from modelLogits); ce = crossEntropy(modelLogits, x0); practical: lambda vb + ce, paper: vb + lambda ce.") { ex, seed in
            let example = Example(seed: seed)
            let exact = exactTerms(process: example.process, modelLogits: example.modelLogits, x0: example.x0, xt: example.xt, t: example.t)
            let practical = example.loss(ex, logits: example.modelLogits, lambda: 0.25, weighting: .practical)
            try Expect.close([Double(practical.ce.item)], [exact.ce], of: "ce", atol: 1e-4, rtol: 1e-4,
                             hint: "ce is the mean cross-entropy of modelLogits against x0: crossEntropy(modelLogits, targets: x0).")
            try Expect.close([Double(practical.vb.item)], [exact.vb], of: "vb (KL from the true posterior to the model's)", atol: 1e-4, rtol: 1e-3,
                             hint: "vb = vb(true posterior logits from x0, model posterior logits from modelLogits), in that order.",
                             knownBugs: [KnownBug(values: [0], hint: "vb is 0: both posteriors are the same. The true one uses the known x0, the model's uses qPosteriorLogits(x0Logits: modelLogits, ...).")])
            try Expect.close([Double(practical.loss.item)], [0.25 * exact.vb + exact.ce], of: "loss with weighting .practical, lambda 0.25",
                             atol: 1e-4, rtol: 1e-3, hint: "The practical's weighting is lambda * vb + ce.",
                             knownBugs: [KnownBug(values: [exact.vb + 0.25 * exact.ce], hint: "With .practical, lambda multiplies the VB term: lambda * vb + ce. The paper's form, vb + lambda * ce, is .paper.")])
            let paper = example.loss(ex, logits: example.modelLogits, lambda: 0.25, weighting: .paper)
            try Expect.close([Double(paper.loss.item)], [exact.vb + 0.25 * exact.ce], of: "loss with weighting .paper, lambda 0.25",
                             atol: 1e-4, rtol: 1e-3, hint: "The paper's weighting is vb + lambda * ce.",
                             knownBugs: [KnownBug(values: [0.25 * exact.vb + exact.ce], hint: "With .paper, lambda multiplies the cross-entropy: vb + lambda * ce.")])
        },
        Check(.exercise3, "hybrid-loss-gradient", "the gradient of the loss reaches modelLogits through the VB term and the CE",
              points: 2, hint: "Compute both terms from modelLogits with differentiable operations; do not detach the VB term.") { ex, seed in
            let example = Example(seed: seed)
            let objective: (Tensor) -> Tensor = { example.loss(ex, logits: $0, lambda: 0.25, weighting: .paper).loss }
            let analytic = gradient(at: example.modelLogits, in: objective)
            let numeric = finiteDifferenceGradient(at: example.modelLogits) { x in withoutGradient { objective(x) } }
            let ceOnly = gradient(at: example.modelLogits) { 0.25 * crossEntropy($0, targets: example.x0) }
            try Expect.close(analytic.doubles, numeric, of: "d loss / d modelLogits (weighting .paper, lambda 0.25)", atol: 2e-3, rtol: 3e-2,
                             hint: "The gradient of the loss is wrong: check that both terms are built from modelLogits.",
                             knownBugs: [KnownBug(values: ceOnly.doubles, hint: "Only the cross-entropy sends a gradient back: the VB term is cut off from the graph (a detached(), or a posterior rebuilt from plain numbers). The model learns the posterior through the VB term.")])
        },
    ]
}
