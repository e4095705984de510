import D3PM
import Foundation
import Tensors

/// A small forward process on random, non-symmetric, row-stochastic matrices,
/// where a missing transpose or a product in the wrong order shows.
struct RandomProcess {
    let onestep: [BruteForce.Matrix]
    let cumulative: [BruteForce.Matrix]
    let matrices: TransitionMatrices
    var numSteps: Int { onestep.count }
    var numClasses: Int { onestep[0].count }

    init(seed: UInt64, steps: Int = 4, classes: Int = 3) {
        var rng = RandomGenerator(seed: seed &+ 202)
        onestep = BruteForce.randomStochastic(count: steps, numClasses: classes, using: &rng)
        cumulative = BruteForce.cumulative(onestep)
        matrices = TransitionMatrices(qOnestep: BruteForce.tensor(onestep), qCumulative: BruteForce.tensor(cumulative))
    }

    /// The uniform process of the practical's example.
    init(uniformClasses k: Int, betas: [Double]) {
        onestep = BruteForce.uniformOnestep(numClasses: k, betas: betas)
        cumulative = BruteForce.cumulative(onestep)
        matrices = TransitionMatrices(qOnestep: BruteForce.tensor(onestep), qCumulative: BruteForce.tensor(cumulative))
    }

    /// The exact posterior for each position, with p0 per position.
    func posteriors(p0: [[Double]], xt: IntTensor, t: IntTensor, cumulativeIndexShift: Int = 0, transposeOnestep: Bool = false) -> [Double] {
        let perBatch = xt.count / t.count
        return (0..<xt.count).flatMap { position in
            BruteForce.posterior(
                p0: p0[position], xt: xt.scalars[position], t: t.scalars[position / perBatch],
                onestep: onestep, cumulative: cumulative, cumulativeIndexShift: cumulativeIndexShift, transposeOnestep: transposeOnestep)
        }
    }
}

/// Probabilities from logits along the last axis, in Double.
func probabilities(_ logits: Tensor) -> [Double] {
    BruteForce.rows(logits).flatMap(BruteForce.softmax)
}

/// Exercise 2: gatherAt, the posterior in both forms, and Gumbel-max.
enum Exercise2Checks {
    static let posteriorHint =
        "Posterior logits = log(row x_t of Q_t^T + eps) + log(p(x0) Q_{1:t-1} + eps): Q_t^T at index t - 1, Q_{1:t-1} at index t - 2."

    /// Distinct values a[s, i, j] = 100 s + 10 i + j, so a wrong row shows.
    static let table: Tensor = {
        let values: [Float] = (0..<36).map { (n: Int) -> Float in
            let step = n / 9, row = (n / 3) % 3, column = n % 3
            return Float(100 * step + 10 * row + column)
        }
        return Tensor(shape: [4, 3, 3], scalars: values)
    }()

    static func expectedRows(t: IntTensor, x: IntTensor, step: (Int) -> Int, column: Bool = false) -> [Double] {
        let perBatch = x.count / t.count
        return (0..<x.count).flatMap { p -> [Double] in
            let s = step(t.scalars[p / perBatch]), i = x.scalars[p]
            return (0..<3).map { j in column ? Double(100 * s + 10 * j + i) : Double(100 * s + 10 * i + j) }
        }
    }

    static let all: [Check] = [
        Check(.exercise2, "gatherAt-rows", "gatherAt picks row x of a[t - 1] per batch element",
              points: 2, hint: "Reshape t - 1 to [B, 1, ..., 1] and index a with it and x together.") { ex, seed in
            var rng = RandomGenerator(seed: seed &+ 203)
            let t = IntTensor([1, 3])
            let x = IntTensor.random([2, 2, 3], in: 0..<3, using: &rng)
            let rows = ex.gatherAt(table, t: t, x: x)
            try Expect.shape(rows.shape, [2, 2, 3, 3], of: "gatherAt(a [4, 3, 3], t [2], x [2, 2, 3])",
                             hint: "The result has the shape of x followed by K.")
            try Expect.close(rows.doubles, expectedRows(t: t, x: x) { $0 - 1 }, of: "gatherAt(a, t: [1, 3], x)", atol: 1e-3, rtol: 0,
                             hint: "Row x[b, ...] of the matrix a[t[b] - 1].", knownBugs: [
                KnownBug(values: expectedRows(t: t, x: x) { $0 }, hint: "You read a[t] instead of a[t - 1]: step t is stored at index t - 1."),
                KnownBug(values: expectedRows(t: t, x: x, step: { $0 - 1 }, column: true), hint: "You picked column x instead of row x."),
            ])
        },
        Check(.exercise2, "gatherAt-last-step", "gatherAt works for t = T and for x of any rank",
              hint: "t runs from 1 to T, and step t is stored at index t - 1, so t = T reads the last matrix.") { ex, seed in
            var rng = RandomGenerator(seed: seed &+ 204)
            let t = IntTensor([4, 1, 2])
            let x = IntTensor.random([3, 5], in: 0..<3, using: &rng)
            let rows = ex.gatherAt(table, t: t, x: x)
            try Expect.shape(rows.shape, [3, 5, 3], of: "gatherAt(a [4, 3, 3], t [3], x [3, 5])")
            try Expect.close(rows.doubles, expectedRows(t: t, x: x) { $0 - 1 }, of: "gatherAt(a, t: [4, 1, 2], x)", atol: 1e-3, rtol: 0,
                             hint: "Row x[b, ...] of the matrix a[t[b] - 1].")
        },
        Check(.exercise2, "posterior-known-x0", "q(x_{t-1} | x_t, x0) matches Bayes' rule on non-symmetric matrices (t >= 2)",
              points: 3, hint: posteriorHint) { ex, seed in
            let process = RandomProcess(seed: seed)
            var rng = RandomGenerator(seed: seed &+ 205)
            let t = IntTensor.random([6], in: 2..<5, using: &rng)
            let x0 = IntTensor.random([6, 2], in: 0..<3, using: &rng)
            let xt = IntTensor.random([6, 2], in: 0..<3, using: &rng)
            let logits = ex.qPosteriorLogits(
                x0: x0, xt: xt, t: t, qOnestepTransposed: process.matrices.qOnestepTransposed, qCumulative: process.matrices.qCumulative)
            try Expect.shape(logits.shape, [6, 2, 3], of: "qPosteriorLogits(x0 [6, 2], xt [6, 2], t [6])")
            let p0 = x0.scalars.map { c in (0..<3).map { $0 == c ? 1.0 : 0.0 } }
            try Expect.close(probabilities(logits), process.posteriors(p0: p0, xt: xt, t: t), of: "softmax of the posterior logits",
                             atol: 1e-4, rtol: 1e-3, hint: posteriorHint, knownBugs: [
                KnownBug(values: process.posteriors(p0: p0, xt: xt, t: t, cumulativeIndexShift: 1),
                         hint: "You used Q_{1:t} where Q_{1:t-1} belongs: x_{t-1} is one step before x_t, so its prior given x0 is row x0 of Q_{1:t-1}, at index t - 2."),
                KnownBug(values: process.posteriors(p0: p0, xt: xt, t: t, transposeOnestep: true),
                         hint: "You used row x_t of Q_t, which is q(x_{t+1} | x_t = .): the likelihood q(x_t | x_{t-1}) is column x_t of Q_t, that is row x_t of Q_t^T (qOnestepTransposed)."),
            ])
        },
        Check(.exercise2, "posterior-at-t1", "at t = 1 the posterior is the x0 distribution itself",
              points: 2, hint: "At t = 1 there is no Q_{1:0}: return the x0 logits (log(one-hot(x0) + eps) for a known x0), for example with where(t .== 1, ...).") { ex, seed in
            let process = RandomProcess(seed: seed)
            var rng = RandomGenerator(seed: seed &+ 206)
            let t = IntTensor([1, 3, 1])
            let x0 = IntTensor.random([3, 4], in: 0..<3, using: &rng)
            let xt = IntTensor.random([3, 4], in: 0..<3, using: &rng)
            let known = ex.qPosteriorLogits(
                x0: x0, xt: xt, t: t, qOnestepTransposed: process.matrices.qOnestepTransposed, qCumulative: process.matrices.qCumulative)
            try Expect.shape(known.shape, [3, 4, 3], of: "qPosteriorLogits(x0 [3, 4], xt [3, 4], t [3])")
            let p0 = x0.scalars.map { c in (0..<3).map { $0 == c ? 1.0 : 0.0 } }
            try Expect.close(probabilities(known), process.posteriors(p0: p0, xt: xt, t: t), of: "softmax of the posterior logits for t = [1, 3, 1]",
                             atol: 1e-4, rtol: 1e-3, hint: "At t = 1 the posterior must be one-hot(x0).")
            let x0Logits = Tensor.normal([3, 4, 3], using: &rng)
            let predicted = ex.qPosteriorLogits(
                x0Logits: x0Logits, xt: xt, t: t, qOnestepTransposed: process.matrices.qOnestepTransposed, qCumulative: process.matrices.qCumulative)
            try Expect.shape(predicted.shape, [3, 4, 3], of: "qPosteriorLogits(x0Logits [3, 4, 3], xt [3, 4], t [3])")
            let p0Predicted = BruteForce.rows(x0Logits).map(BruteForce.softmax)
            try Expect.close(probabilities(predicted), process.posteriors(p0: p0Predicted, xt: xt, t: t),
                             of: "softmax of the posterior from predicted logits, t = [1, 3, 1]", atol: 1e-4, rtol: 1e-3,
                             hint: "At t = 1 return x0Logits themselves.")
        },
        Check(.exercise2, "posterior-predicted-x0", "with predicted x0 logits, the posterior uses p(x0) = softmax(logits)",
              points: 2, hint: "With a predicted x0 the prior of x_{t-1} is the row vector softmax(x0Logits) Q_{1:t-1}: vecmat(p, Q_{1:t-1} per batch element).") { ex, seed in
            let process = RandomProcess(seed: seed)
            var rng = RandomGenerator(seed: seed &+ 207)
            let t = IntTensor([2, 4, 3, 4])
            let xt = IntTensor.random([4, 1, 2, 3], in: 0..<3, using: &rng)
            let x0Logits = 2 * Tensor.normal([4, 1, 2, 3, 3], using: &rng)
            let logits = ex.qPosteriorLogits(
                x0Logits: x0Logits, xt: xt, t: t, qOnestepTransposed: process.matrices.qOnestepTransposed, qCumulative: process.matrices.qCumulative)
            try Expect.shape(logits.shape, [4, 1, 2, 3, 3], of: "qPosteriorLogits(x0Logits [4, 1, 2, 3, 3], xt [4, 1, 2, 3], t [4])")
            let p0 = BruteForce.rows(x0Logits).map(BruteForce.softmax)
            let logitsAsProbabilities = BruteForce.rows(x0Logits).map { row in row.map { max($0, 0) } }
            try Expect.close(probabilities(logits), process.posteriors(p0: p0, xt: xt, t: t), of: "softmax of the posterior logits",
                             atol: 1e-4, rtol: 1e-3, hint: posteriorHint, knownBugs: [
                KnownBug(values: process.posteriors(p0: p0, xt: xt, t: t, cumulativeIndexShift: 1),
                         hint: "You used Q_{1:t} where Q_{1:t-1} belongs (index t - 2)."),
                KnownBug(values: process.posteriors(p0: p0, xt: xt, t: t, transposeOnestep: true),
                         hint: "Use row x_t of Q_t^T (qOnestepTransposed), the likelihood q(x_t | x_{t-1})."),
                KnownBug(values: process.posteriors(p0: logitsAsProbabilities, xt: xt, t: t),
                         hint: "Turn the x0 logits into probabilities with softmax before multiplying by Q_{1:t-1}."),
            ])
        },
        Check(.exercise2, "posterior-gradient", "gradients flow from the posterior back to the x0 logits",
              hint: "Build the posterior from x0Logits with differentiable operations only (no detached(), no rebuilding tensors from scalars).") { ex, seed in
            let process = RandomProcess(seed: seed)
            var rng = RandomGenerator(seed: seed &+ 208)
            let t = IntTensor([3, 2])
            let xt = IntTensor.random([2, 3], in: 0..<3, using: &rng)
            let x0Logits = Tensor.normal([2, 3, 3], using: &rng)
            let weights = Tensor.uniform([2, 3, 3], low: -1, high: 1, using: &rng)
            let objective: (Tensor) -> Tensor = { logits in
                (ex.qPosteriorLogits(x0Logits: logits, xt: xt, t: t, qOnestepTransposed: process.matrices.qOnestepTransposed,
                                     qCumulative: process.matrices.qCumulative) * weights).sum()
            }
            let analytic = gradient(at: x0Logits, in: objective)
            let numeric = finiteDifferenceGradient(at: x0Logits) { x in withoutGradient { objective(x) } }
            try Expect.close(analytic.doubles, numeric, of: "d(sum w * posterior logits)/d(x0Logits)", atol: 3e-3, rtol: 3e-2,
                             hint: "Build the posterior from x0Logits with differentiable tensor operations only (no detached(), no loops over scalars).",
                             knownBugs: [KnownBug(values: [Double](repeating: 0, count: numeric.count),
                                                  hint: "No gradient reaches x0Logits: the posterior is cut off from them (a detached() or a tensor rebuilt from scalars).")])
        },
        Check(.exercise2, "posterior-practical-example", "the practical's example: K = 3, betas linspace(0.01, 0.05, 4), x0 = [0, 1], xt = [1, 2], t = [3, 3]",
              hint: posteriorHint) { ex, _ in
            let process = RandomProcess(uniformClasses: 3, betas: [0.01, 0.01 + 0.04 / 3, 0.01 + 0.08 / 3, 0.05])
            let x0 = IntTensor([0, 1]), xt = IntTensor([1, 2]), t = IntTensor([3, 3])
            let logits = ex.qPosteriorLogits(
                x0: x0, xt: xt, t: t, qOnestepTransposed: process.matrices.qOnestepTransposed, qCumulative: process.matrices.qCumulative)
            try Expect.shape(logits.shape, [2, 3], of: "qPosteriorLogits(x0 [2], xt [2], t [2])")
            let p0 = x0.scalars.map { c in (0..<3).map { $0 == c ? 1.0 : 0.0 } }
            try Expect.close(probabilities(logits), process.posteriors(p0: p0, xt: xt, t: t), of: "softmax of the posterior logits",
                             atol: 1e-4, rtol: 1e-3, hint: posteriorHint)
        },
        Check(.exercise2, "gumbel-exact", "gumbelMaxSample returns argmax(logits - log(-log u)) for the given noise",
              points: 2, hint: "Gumbel noise is -log(-log u), added to the logits; then argmax over the last axis.") { ex, seed in
            var rng = RandomGenerator(seed: seed &+ 209)
            let logits = 1.5 * Tensor.normal([50, 2, 4], using: &rng)
            let noise = Tensor.uniform([50, 2, 4], using: &rng)
            let samples = ex.gumbelMaxSample(logits, noise: noise)
            try Expect.shape(samples.shape, [50, 2], of: "gumbelMaxSample(logits [50, 2, 4], noise [50, 2, 4])",
                             hint: "The argmax over the last axis removes it.")
            let rows = BruteForce.rows(logits), noiseRows = stride(from: 0, to: noise.count, by: 4).map { Array(noise.scalars[$0..<($0 + 4)]) }
            let exact = zip(rows, noiseRows).map { BruteForce.gumbelArgmax(logits: $0, noise: $1) }
            let logU = zip(rows, noiseRows).map { l, u in zip(l, u).map { $0 + log(Double(max($1, 1e-6))) }.indices.max { i, j in
                l[i] + log(Double(max(u[i], 1e-6))) < l[j] + log(Double(max(u[j], 1e-6))) }! }
            let noNoise = rows.map { r in r.indices.max { r[$0] < r[$1] }! }
            try Expect.equal(samples.scalars, exact.map(\.index), of: "argmax(logits + Gumbel(noise))",
                             skip: Set(exact.indices.filter { exact[$0].margin < 1e-4 }), hint: "Gumbel noise is -log(-log u), added to the logits.",
                             knownBugs: [(logU, "You added log(u): that is not Gumbel noise, and the samples do not follow softmax(logits). A standard Gumbel variable is -log(-log u)."),
                                         (noNoise, "The noise is not used: the result is the argmax of the logits alone.")])
        },
        Check(.exercise2, "gumbel-clamps-noise", "noise of exactly 0 or 1 is clamped to [1e-6, 1 - 1e-6]",
              hint: "Clamp u to [eps, 1 - eps] (eps = D3PMConstants.gumbelEpsilon) before the logs, with clamped(min:max:).") { ex, _ in
            let logits = Tensor([[30, 0, 0], [0, 0, 5]])
            let noise = Tensor([[0, 1, 0.5], [0, 0, 0]])
            let samples = ex.gumbelMaxSample(logits, noise: noise)
            try Expect.shape(samples.shape, [2], of: "gumbelMaxSample(logits [2, 3], noise [2, 3])")
            try Expect.equal(samples.scalars, [0, 2], of: "samples for logits [[30, 0, 0], [0, 0, 5]] and noise [[0, 1, 0.5], [0, 0, 0]]",
                             hint: "Without a clamp, u = 1 gives -log(-log 1) = +infinity and u = 0 gives -infinity, whatever the logits say. Clamp u to [eps, 1 - eps].")
        },
        Check(.exercise2, "gumbel-distribution", "20,000 Gumbel-max samples follow the practical's posterior (chi-square, p = 1e-6)",
              points: 2, hint: "argmax(logits + Gumbel noise) is distributed as softmax(logits) only with Gumbel noise -log(-log u).") { ex, seed in
            let process = RandomProcess(uniformClasses: 3, betas: [0.01, 0.01 + 0.04 / 3, 0.01 + 0.08 / 3, 0.05])
            let p = BruteForce.posterior(p0: [1, 0, 0], xt: 1, t: 3, onestep: process.onestep, cumulative: process.cumulative)
            let n = 20_000
            let logits = Tensor(shape: [1, 3], scalars: p.map { Float(log($0)) }).broadcast(to: [n, 3])
            var rng = RandomGenerator(seed: seed &+ 210)
            let samples = ex.gumbelMaxSample(logits, noise: Tensor.uniform([n, 3], using: &rng))
            try Expect.shape(samples.shape, [n], of: "gumbelMaxSample(logits [\(n), 3], noise [\(n), 3])")
            var counts = [0, 0, 0]
            for s in samples.scalars where (0..<3).contains(s) { counts[s] += 1 }
            let chi2 = Statistics.chiSquare(counts: counts, probabilities: p)
            try Expect.that(chi2 < Statistics.chiSquareCritical[2]!,
                            expected: "frequencies near \(Expect.format(p)) (chi-square < \(Statistics.chiSquareCritical[2]!), 2 degrees of freedom)",
                            actual: "frequencies \(Expect.format(counts.map { Double($0) / Double(n) })), chi-square \(Expect.format(chi2))",
                            hint: "argmax(logits + g) with g = -log(-log u) follows softmax(logits).")
        },
    ]
}

/// Central finite differences of a scalar function, in Double.
func finiteDifferenceGradient(at x: Tensor, step: Float = 1e-2, _ f: (Tensor) -> Tensor) -> [Double] {
    (0..<x.count).map { i in
        var plus = x.scalars, minus = x.scalars
        plus[i] += step
        minus[i] -= step
        let up = f(Tensor(shape: x.shape, scalars: plus)).item, down = f(Tensor(shape: x.shape, scalars: minus)).item
        return (Double(up) - Double(down)) / (2 * Double(step))
    }
}
