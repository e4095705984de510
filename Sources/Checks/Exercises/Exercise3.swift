import D3PM
import Foundation
import Tensors

/// Exercise 3: the KL term and the hybrid loss.
enum Exercise3 {
    static let info = ExerciseInfo(
        number: 3, title: "The hybrid loss", file: "Exercises/Exercise3+HybridLoss.swift",
        functions: ["vb", "hybridLoss"],
        hint:
            "KL(p || q) = sum p (log p - log q), with log p and log q from logSoftmax. The true posterior is p. Keep everything differentiable.",
        knownMistakes: [
            "KL(q || p) for KL(p || q); a negated KL",
            "the KL summed over positions, or averaged over the classes too",
            "both posteriors built the same way (vb = 0); the posteriors of step t - 1",
            "lambda on the wrong term; the VB term cut off from the gradient",
        ]
    ) { number in
        [
            Check(
                exercise: number, name: "kl-closed-form",
                title: "vb matches the KL divergence of two known distributions", points: 2,
                hint:
                    "KL(p || q) = sum_k p_k (log p_k - log q_k), summed over the last axis and averaged over positions.",
                trial: klClosedForm),
            Check(
                exercise: number, name: "kl-zero-and-nonnegative",
                title: "vb(l, l + c) = 0 (same softmax), and vb > 0 for different distributions",
                hint: "Use logSoftmax for both sides: adding a constant to every logit changes nothing.",
                trial: klZeroAndNonNegative),
            Check(
                exercise: number, name: "kl-gradient",
                title: "the gradient of vb matches the exact one in both arguments",
                hint: "Write vb with differentiable operations only; keep both arguments tracked (no detached()).",
                trial: klGradient),
            Check(
                exercise: number, name: "hybrid-loss-terms",
                title: "vb, ce and the loss match Bayes' rule and both weightings", points: 3,
                hint:
                    "vb between the true posterior (from x0) and the model's (from modelLogits); ce = crossEntropy(modelLogits, x0); practical: lambda vb + ce, paper: vb + lambda ce.",
                trial: hybridTerms),
            Check(
                exercise: number, name: "hybrid-loss-zero-probabilities",
                title: "the loss on absorbing matrices (zero probabilities) is finite and right",
                hint: "The posteriors hold log(0) unless eps is inside every log; 0 * -infinity is NaN in the KL.",
                trial: hybridWithZeros),
            Check(
                exercise: number, name: "hybrid-loss-gradient",
                title: "the gradient of the loss reaches modelLogits through the VB term and the CE", points: 2,
                hint: "Compute both terms from modelLogits with differentiable operations; do not detach the VB term.",
                trial: hybridGradient),
        ]
    }

    /// Logits of `rows` (distributions, shifted by a constant per row) laid
    /// out as `shape` + [K]: rank 3 and more, as the hybrid loss's
    /// [B, 1, H, W, K], so that a sum over axis 1 is not the class axis.
    static func logits(_ rows: [[Double]], shifts: [Double], shape: [Int]) -> Tensor {
        Tensor(
            shape: shape + [rows[0].count],
            scalars: zip(rows, shifts).flatMap { row, shift in row.map { Float(log($0) + shift) } })
    }

    static func meanKL(_ a: Tensor, _ b: Tensor) -> Double {
        let ra = BruteForce.rows(a), rb = BruteForce.rows(b)
        return zip(ra, rb).reduce(0) { $0 + BruteForce.klOfLogits($1.0, $1.1) } / Double(ra.count)
    }

    static func klClosedForm(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 301)
        // Two positions along axis 1, fewer than the K >= 3 classes: a sum over axis 1 never equals one over the classes.
        let k = draw.int(3...5), positions = [draw.int(2...3), 2], n = positions[0] * positions[1]
        let p = (0..<n).map { _ in draw.distribution(k, floor: 0.02) },
            q = (0..<n).map { _ in draw.distribution(k, floor: 0.02) }
        let a = logits(p, shifts: (0..<n).map { _ in draw.double(-2...2) }, shape: positions),
            b = logits(q, shifts: (0..<n).map { _ in draw.double(-2...2) }, shape: positions)
        return Trial(.vb(a, b, gradient: false)) { results in
            let value = try results.value()
            try Expect.that(
                value.count == 1, expected: "a scalar", actual: "shape \(value.shape)",
                hint: "Average the per-position KL with mean().")
            let expected = meanKL(a, b), swapped = meanKL(b, a)
            try Expect.close(
                [Double(value.item)], [expected], of: "vb for \(n) positions of \(k) classes",
                names: EntryNames { _ in "the value" },
                atol: 1e-5, rtol: 1e-4,
                hint: "KL(p || q) = sum_k p_k (log p_k - log q_k), summed over classes, averaged over positions.",
                knownBugs: [
                    KnownBug(
                        values: [swapped],
                        hint:
                            "You computed KL(q || p): the arguments are swapped. The KL is not symmetric; vb(logits1, logits2) = KL(softmax(logits1) || softmax(logits2))."
                    ),
                    KnownBug(values: [-expected], hint: "Your KL has the wrong sign: sum p (log p - log q) >= 0."),
                    KnownBug(values: [-swapped], hint: "Your KL has the wrong sign and swapped arguments."),
                    KnownBug(values: [expected * Double(n)], hint: "Average over positions (mean), do not sum them."),
                    KnownBug(
                        values: [expected / Double(k)],
                        hint:
                            "Sum over the class axis, then average over positions: a mean over everything divides by K too."
                    ),
                    KnownBug(
                        values: [expected * Double(positions[1]) / Double(k)],
                        hint:
                            "Your sum runs over axis 1, not the classes: sum over the last axis (axis: -1), whatever the rank."
                    ),
                ])
        }
    }

    static func klZeroAndNonNegative(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 302)
        let k = draw.int(3...6), shape = [draw.int(2...5), draw.int(2...5), k]
        let l = draw.normal(shape, std: 3), c = Float(draw.double(-3...3))
        let pairs = (0..<5).map { _ in (draw.normal([3, 2, k], std: 2), draw.normal([3, 2, k], std: 2)) }
        let calls =
            [ExerciseCall.vb(l, l + c, gradient: false)] + pairs.map { ExerciseCall.vb($0.0, $0.1, gradient: false) }
        return Trial(calls: calls) { results in
            let same = try results.value(0)
            try Expect.that(
                same.count == 1, expected: "a scalar", actual: "shape \(same.shape)",
                hint: "Average the per-position KL with mean().")
            try Expect.that(
                abs(same.item) < 1e-5,
                expected: "vb(l, l + \(Expect.format(Double(c)))) = 0 within 1e-5 (softmax ignores a constant shift)",
                actual: Expect.format(Double(same.item)),
                hint:
                    "Turn logits into log-probabilities with logSoftmax before comparing them. (The original practical checked vb(l, l + 1) > 0, which is wrong: it is exactly 0.)"
            )
            for trial in 0..<5 {
                let value = try results.value(trial + 1)
                let exact = meanKL(pairs[trial].0, pairs[trial].1)
                try Expect.that(
                    value.count == 1 && Double(value.item) >= 0.5 * exact,
                    expected: "vb > 0 for two random logits (their KL is \(Expect.format(exact)))",
                    actual:
                        "\(value.count == 1 ? Expect.format(Double(value.item)) : "shape \(value.shape)") on pair \(trial + 1)",
                    hint:
                        "The KL divergence of two different distributions is positive: check the sign, and that vb depends on its arguments."
                )
            }
        }
    }

    static func klGradient(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 303)
        let k = draw.int(3...5), positions = [draw.int(1...2), draw.int(2...3)], n = positions[0] * positions[1]
        let a = draw.normal(positions + [k]), b = draw.normal(positions + [k])
        return Trial(.vb(a, b, gradient: true)) { results in
            let value = try results.value()
            try Expect.that(
                value.count == 1, expected: "a scalar", actual: "shape \(value.shape)",
                hint: "Average the per-position KL with mean().")
            let gradients = try results.gradients(count: 2)
            let rowsA = BruteForce.rows(a), rowsB = BruteForce.rows(b)
            // d KL / d a = p (log p - log q - KL) / n and d KL / d b = (q - p) / n, row by row.
            var exactA: [Double] = [], exactB: [Double] = []
            for (ra, rb) in zip(rowsA, rowsB) {
                let p = BruteForce.softmax(ra), q = BruteForce.softmax(rb), kl = BruteForce.kl(p, q)
                exactA += p.indices.map { p[$0] * (log(p[$0]) - log(q[$0]) - kl) / Double(n) }
                exactB += p.indices.map { (q[$0] - p[$0]) / Double(n) }
            }
            try Expect.close(
                gradients[0].doubles, exactA, of: "d vb / d logits1",
                names: .indices(positions + [k]),
                atol: 1e-4, rtol: 1e-2,
                hint: "The gradient with respect to logits1 is missing or wrong: keep logits1 differentiable.")
            try Expect.close(
                gradients[1].doubles, exactB, of: "d vb / d logits2",
                names: .indices(positions + [k]),
                atol: 1e-4, rtol: 1e-2,
                hint: "The gradient with respect to logits2 is missing or wrong: keep logits2 differentiable.")
        }
    }

    /// A hybrid-loss example: a process, a batch, and model logits.
    struct Example {
        let process: ForwardProcess
        let modelLogits: Tensor, x0: IntTensor, xt: IntTensor, t: IntTensor
        let lambda: Float

        init(process: ForwardProcess, draw: inout Draw, reachable: Bool) {
            self.process = process
            let batch = draw.int(3...5)
            t = draw.steps(batch, upTo: process.numSteps, including: [1, process.numSteps, 2])
            let shape = [batch, 1] + draw.imageShape()
            let classes = reachable ? process.numClasses - 1 : process.numClasses
            x0 = draw.classes(shape, below: classes)
            xt = reachable ? process.reachableStates(x0: x0, t: t, draw: &draw) : draw.classes(shape, below: classes)
            modelLogits = draw.normal(shape + [process.numClasses])
            lambda = Float(draw.double(0.1...0.5))
        }

        func call(_ weighting: LossWeighting, gradient: Bool = false) -> ExerciseCall {
            .hybridLoss(
                modelLogits: modelLogits, x0: x0, xt: xt, t: t, matrices: process.matrices, lambda: lambda,
                weighting: weighting, gradient: gradient)
        }

        /// The exact VB and CE for model logits `logits` (flattened rows), with the VB of known mistakes.
        func terms(_ logits: [[Double]], mistake: BruteForce.PosteriorMistake? = nil, swapped: Bool = false) -> (
            vb: Double, ce: Double
        ) {
            let k = process.numClasses
            let oneHots = x0.scalars.map { c in (0..<k).map { $0 == c ? 1.0 : 0 } }
            let truth = process.posteriorLogits(
                p0: oneHots, x0Logits: oneHots.map { $0.map { Foundation.log($0 + BruteForce.eps) } }, xt: xt, t: t,
                mistake: mistake)
            let model = process.posteriorLogits(
                p0: logits.map(BruteForce.softmax), x0Logits: logits, xt: xt, t: t, mistake: mistake)
            let vb = zip(truth, model).reduce(0.0) {
                $0 + (swapped ? BruteForce.klOfLogits($1.1, $1.0) : BruteForce.klOfLogits($1.0, $1.1))
            }
            let ce = logits.indices.reduce(0.0) { $0 - BruteForce.logSoftmax(logits[$1])[x0.scalars[$1]] }
            return (vb / Double(logits.count), ce / Double(logits.count))
        }

        var description: String { "\(process.description), t = \(t.scalars), x0 \(x0.shape)" }
    }

    static func hybridTerms(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 304)
        let example = Example(process: .random(&draw), draw: &draw, reachable: false)
        return Trial(calls: [example.call(.practical), example.call(.paper)]) { results in
            try judgeTerms(example, practical: try results.lossTerms(0), paper: try results.lossTerms(1))
        }
    }

    static func hybridWithZeros(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 305)
        let example = Example(process: .absorbing(&draw), draw: &draw, reachable: true)
        return Trial(calls: [example.call(.practical), example.call(.paper)]) { results in
            let practical = try results.lossTerms(0)
            for (name, value) in [("loss", practical.loss), ("vb", practical.vb), ("ce", practical.ce)] {
                try Expect.finite(
                    value.doubles, of: "\(name) on absorbing matrices", names: EntryNames { _ in "the value" },
                    hint:
                        "log(0) is -infinity, and 0 * -infinity is NaN: the posteriors need eps = D3PMConstants.logEpsilon inside every log (exercise 2)."
                )
            }
            try judgeTerms(example, practical: practical, paper: try results.lossTerms(1))
        }
    }

    static func judgeTerms(
        _ example: Example, practical: (loss: Tensor, vb: Tensor, ce: Tensor),
        paper: (loss: Tensor, vb: Tensor, ce: Tensor)
    ) throws {
        for (name, value) in [
            ("loss", practical.loss), ("vb", practical.vb), ("ce", practical.ce), ("loss (.paper)", paper.loss),
        ] {
            try Expect.that(
                value.count == 1, expected: "\(name) as a scalar", actual: "shape \(value.shape)",
                hint: "Each term is a mean over positions: a scalar.")
        }
        let rows = BruteForce.rows(example.modelLogits)
        let exact = example.terms(rows)
        let positions = Double(rows.count), batch = Double(example.t.count), lambda = Double(example.lambda)
        let one = EntryNames { _ in "the value" }
        try Expect.close(
            [Double(practical.ce.item)], [exact.ce], of: "ce (\(example.description))", names: one, atol: 1e-4,
            rtol: 1e-4,
            hint: "ce is the mean cross-entropy of modelLogits against x0: crossEntropy(modelLogits, targets: x0).")
        try Expect.close(
            [Double(practical.vb.item)], [exact.vb],
            of: "vb, the KL from the true posterior to the model's (\(example.description))",
            names: one, atol: 1e-4, rtol: 1e-3,
            hint:
                "vb = vb(true posterior logits from x0, model posterior logits from modelLogits): both from qPosteriorLogits.",
            knownBugs: [
                KnownBug(
                    values: [0],
                    hint:
                        "vb is 0: both posteriors are the same. The true one uses the known x0, the model's uses qPosteriorLogits(x0Logits: modelLogits, ...)."
                ),
                KnownBug(
                    values: [example.terms(rows, swapped: true).vb],
                    hint: "The KL's arguments are swapped: vb(true posterior, model posterior), in that order."),
                KnownBug(
                    values: [exact.vb * positions / batch],
                    hint:
                        "Your vb is the KL summed over the pixels of each image: take the mean over every position, as vb() does."
                ),
                KnownBug(
                    values: [exact.vb * positions],
                    hint: "Your vb is the KL summed over all positions: take the mean, as vb() does."),
                KnownBug(
                    values: [example.terms(rows, mistake: .previousStep).vb],
                    hint: "Your posteriors are those of step t - 1: pass the batch's own t to qPosteriorLogits."),
            ])
        try Expect.close(
            [Double(practical.loss.item)], [lambda * exact.vb + exact.ce],
            of: "loss with weighting .practical, lambda \(Expect.format(lambda))",
            names: one, atol: 1e-4, rtol: 1e-3, hint: "The practical's weighting is lambda * vb + ce.",
            knownBugs: [
                KnownBug(
                    values: [exact.vb + lambda * exact.ce],
                    hint:
                        "With .practical, lambda multiplies the VB term: lambda * vb + ce. The paper's form, vb + lambda * ce, is .paper."
                )
            ])
        try Expect.close(
            [Double(paper.loss.item)], [exact.vb + lambda * exact.ce],
            of: "loss with weighting .paper, lambda \(Expect.format(lambda))",
            names: one, atol: 1e-4, rtol: 1e-3, hint: "The paper's weighting is vb + lambda * ce.",
            knownBugs: [
                KnownBug(
                    values: [lambda * exact.vb + exact.ce],
                    hint: "With .paper, lambda multiplies the cross-entropy: vb + lambda * ce.")
            ])
    }

    static func hybridGradient(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 306)
        let example = Example(process: .random(&draw, steps: 3...5, classes: 3...4), draw: &draw, reachable: false)
        // Both weightings: .practical is what training uses, .paper the form of the paper.
        let weightings: [LossWeighting] = [.practical, .paper]
        return Trial(calls: weightings.map { example.call($0, gradient: true) }) { results in
            let k = example.process.numClasses, lambda = Double(example.lambda)
            let rows = BruteForce.rows(example.modelLogits), n = Double(rows.count)
            for (index, weighting) in weightings.enumerated() {
                let gradient = try results.gradients(index, count: 1)[0]
                let (vbWeight, ceWeight) = weighting == .practical ? (lambda, 1.0) : (1.0, lambda)
                let exact = BruteForce.numericGradient(at: example.modelLogits.doubles) { flat in
                    let terms = example.terms(
                        stride(from: 0, to: flat.count, by: k).map { Array(flat[$0..<($0 + k)]) })
                    return vbWeight * terms.vb + ceWeight * terms.ce
                }
                let vbOnly = BruteForce.numericGradient(at: example.modelLogits.doubles) { flat in
                    vbWeight
                        * example.terms(stride(from: 0, to: flat.count, by: k).map { Array(flat[$0..<($0 + k)]) }).vb
                }
                let ceOnly = rows.indices.flatMap { r in
                    BruteForce.softmax(rows[r]).enumerated().map {
                        ceWeight * ($1 - ($0 == example.x0.scalars[r] ? 1 : 0)) / n
                    }
                }
                try Expect.close(
                    gradient.doubles, exact,
                    of: "d loss / d modelLogits (weighting .\(weighting), lambda \(Expect.format(lambda)))",
                    names: .pixels(gradient.shape, t: example.t), atol: 1e-3, rtol: 2e-2,
                    hint: "The gradient of the loss is wrong: check that both terms are built from modelLogits.",
                    knownBugs: [
                        KnownBug(
                            values: ceOnly,
                            hint:
                                "Only the cross-entropy sends a gradient back (weighting .\(weighting)): the VB term is cut off from the graph (a detached(), .item, or a posterior rebuilt from plain numbers). The model learns the posterior through the VB term."
                        ),
                        KnownBug(
                            values: vbOnly,
                            hint:
                                "Only the VB term sends a gradient back (weighting .\(weighting)): the cross-entropy is cut off from the graph (a detached() or .item)."
                        ),
                    ])
            }
        }
    }
}
