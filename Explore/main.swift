// Your explorations, like the practical's notebook cells: edit this file freely and run
//     swift run explore
// Each exploration calls your own functions (Exercises/); one whose exercises do not pass yet
// says which and is skipped. The pictures go to output/explore/ (their paths are printed).
// `grade reset` never touches this file.
import D3PM
import Foundation
import Plotting
import Student
import Tensors

let ex = StudentExercises.self
DebugPlots.folder = URL(fileURLWithPath: "output/explore")

// 1. Q_{1:t} for K = 4: how fast does each row flatten towards uniform?
//    Try another schedule: .cosine, or .inverse (the absorbing state's).
exploration("Q_{1:t} for K = 4", needs: [1]) {
    let k = 4, steps = 10
    let betas = NoiseSchedule.linear.betas(steps: steps, start: 1e-3, end: 0.15)
    let cumulative = ex.cumulativeQ(ex.makeUniformQOnestep(numClasses: k, betas: betas))
    for t in [1, 5, 10] {
        plotHeatmap(cumulative[t - 1], title: "Q_{1:\(t)}")
    }
    let entropy = (0..<steps).map { Double(rowEntropy(cumulative[$0][0]).item) }
    plotLines(
        [("row x_0 = 0", entropy), ("log K", Array(repeating: log(Double(k)), count: steps))],
        title: "entropy of q(x_t | x_0)")
}

// 2. The posterior q(x_{t-1} | x_t, x0) of one pixel with x0 = 2 and x_t = 3, at a few t:
//    how it weighs x0 against x_t as the chain goes on.
exploration("the posterior of one pixel", needs: [1, 2]) {
    let k = 4
    let matrices = TransitionMatrices.uniform(numClasses: k, betas: NoiseSchedule.linear.betas(steps: 200), using: ex)
    let bars = [2, 50, 150, 200].map { t -> (name: String, values: [Double]) in
        let logits = ex.qPosteriorLogits(
            x0: IntTensor([2]), xt: IntTensor([3]), t: IntTensor([t]),
            qOnestepTransposed: matrices.qOnestepTransposed, qCumulative: matrices.qCumulative)
        return ("t = \(t)", softmax(logits, axis: -1).scalars.map(Double.init))
    }
    plotBars(bars, title: "q(x_{t-1} | x_t = 3, x0 = 2)")
}

// 3. One training digit corrupted by your qSample at chosen steps (T = 200).
exploration("one digit corrupted", needs: [1, 2, 4]) {
    let k = 4, steps = [1, 25, 50, 100, 150, 200]
    let digit = try trainingDigit(0, levels: k)  // [1, 1, 28, 28]
    let matrices = TransitionMatrices.uniform(numClasses: k, betas: NoiseSchedule.linear.betas(steps: 200), using: ex)
    var rng = RandomGenerator(seed: 1)
    let batch = IntTensor(
        shape: [steps.count, 1, 28, 28], scalars: Array(repeating: digit.scalars, count: steps.count).flatMap { $0 })
    let corrupted = ex.qSample(
        x0: batch, t: IntTensor(steps), noise: Tensor.uniform([steps.count, 1, 28, 28, k], using: &rng),
        qCumulative: matrices.qCumulative)
    plotImages(corrupted, title: "x_t at t = \(steps.map(String.init).joined(separator: ", "))", levels: k)
}
