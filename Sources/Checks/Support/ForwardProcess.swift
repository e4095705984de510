import D3PM
import Foundation
import Tensors

/// A small forward process for the checks: one-step matrices, their products
/// in Double for the judge, and both as the Float tensors the exercises take.
struct ForwardProcess {
    let onestep: [BruteForce.Matrix]
    let cumulative: [BruteForce.Matrix]
    let matrices: MatrixPair
    let description: String
    var numSteps: Int { onestep.count }
    var numClasses: Int { onestep[0].count }

    init(onestep: [BruteForce.Matrix], description: String) {
        let tensor = BruteForce.tensor(onestep)
        // The judge works with exactly the Float values the exercises see.
        self.onestep = BruteForce.matrices(tensor)
        let cumulative = BruteForce.cumulative(self.onestep)
        self.cumulative = cumulative
        matrices = MatrixPair(qOnestep: tensor, qCumulative: BruteForce.tensor(cumulative))
        self.description = description
    }

    /// Random row-stochastic, non-symmetric matrices, where a missing
    /// transpose or a product in the wrong order shows.
    static func random(_ draw: inout Draw, steps: ClosedRange<Int> = 4...7, classes: ClosedRange<Int> = 3...5)
        -> ForwardProcess
    {
        let t = draw.int(steps), k = draw.int(classes)
        return ForwardProcess(
            onestep: draw.stochasticMatrices(t, classes: k), description: "random matrices, K = \(k), T = \(t)")
    }

    /// Absorbing matrices over K + 1 states: zero probabilities everywhere.
    static func absorbing(_ draw: inout Draw, steps: ClosedRange<Int> = 4...7, classes: ClosedRange<Int> = 2...4)
        -> ForwardProcess
    {
        let t = draw.int(steps), k = draw.int(classes)
        let betas = NoiseSchedule.inverse.betas(steps: t).scalars.map(Double.init)
        return ForwardProcess(
            onestep: BruteForce.absorbingOnestep(numClasses: k, betas: betas),
            description: "absorbing matrices, K = \(k) + [MASK], T = \(t)")
    }

    /// Uniform matrices for `betas`.
    static func uniform(classes k: Int, betas: [Double]) -> ForwardProcess {
        ForwardProcess(
            onestep: BruteForce.uniformOnestep(numClasses: k, betas: betas),
            description: "uniform matrices, K = \(k), T = \(betas.count)")
    }

    /// Posterior logits for every position of `xt`, the x0 distribution of
    /// each given as probabilities `p0` and logits `x0Logits`.
    func posteriorLogits(
        p0: [[Double]], x0Logits: [[Double]], xt: IntTensor, t: IntTensor, mistake: BruteForce.PosteriorMistake? = nil
    ) -> [[Double]] {
        let perBatch = xt.count / t.count
        return (0..<xt.count).map { position in
            BruteForce.posteriorLogits(
                p0: p0[position], x0Logits: x0Logits[position], xt: xt.scalars[position],
                t: t.scalars[position / perBatch],
                onestep: onestep, cumulative: cumulative, mistake: mistake)
        }
    }

    /// The posterior probabilities for a known x0, flattened.
    func knownPosterior(x0: IntTensor, xt: IntTensor, t: IntTensor, mistake: BruteForce.PosteriorMistake? = nil)
        -> [Double]
    {
        let oneHots = x0.scalars.map { c in (0..<numClasses).map { $0 == c ? 1.0 : 0 } }
        let logits = oneHots.map { $0.map { Foundation.log($0 + BruteForce.eps) } }
        return posteriorLogits(p0: oneHots, x0Logits: logits, xt: xt, t: t, mistake: mistake).flatMap(
            BruteForce.softmax)
    }

    /// The posterior probabilities for predicted x0 logits, flattened.
    func predictedPosterior(x0Logits: Tensor, xt: IntTensor, t: IntTensor, mistake: BruteForce.PosteriorMistake? = nil)
        -> [Double]
    {
        let rows = BruteForce.rows(x0Logits)
        return posteriorLogits(p0: rows.map(BruteForce.softmax), x0Logits: rows, xt: xt, t: t, mistake: mistake)
            .flatMap(BruteForce.softmax)
    }

    /// A state x_t that x0 can reach by step t (x_t drawn from row x0 of Q_{1:t}).
    func reachableStates(x0: IntTensor, t: IntTensor, draw: inout Draw) -> IntTensor {
        let perBatch = x0.count / t.count
        return IntTensor(
            shape: x0.shape,
            scalars: (0..<x0.count).map { position in
                let row = cumulative[t.scalars[position / perBatch] - 1][x0.scalars[position]]
                var u = draw.double(0...1) * row.reduce(0, +)
                for (j, p) in row.enumerated() where p > 0 {
                    u -= p
                    if u <= 0 { return j }
                }
                return row.lastIndex { $0 > 0 } ?? 0
            })
    }
}

/// Probabilities from logits along the last axis, in Double.
func probabilities(_ logits: Tensor) -> [Double] {
    BruteForce.rows(logits).flatMap(BruteForce.softmax)
}
