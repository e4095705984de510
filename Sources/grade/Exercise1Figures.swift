import Checks
import D3PM
import Foundation
import Plotting
import Tensors

/// Exercise 1's pictures, drawn from the graded implementation once the
/// exercise passes: heatmaps of Q_{1:t} at t = 1, 5, 10 and the entropy of
/// each row of Q_{1:t} over t (K = 4, T = 10, betas linspace(1e-3, 0.15, 10)).
enum Exercise1Figures {
    static func draw(implementation: Implementation, folder: String) {
        let renderer: FigureRenderer
        do {
            renderer = try FigureRenderer()
        } catch {
            print("No figures: \(error)")
            return
        }
        let exercises = implementation.exercises
        let k = 4, steps = 10
        let cumulative = exercises.cumulativeQ(exercises.makeUniformQOnestep(numClasses: k, betas: Tensor.linspace(1e-3, 0.15, count: steps)))
        let directory = URL(fileURLWithPath: folder)
        do {
            let maps = [1, 5, 10].map { t in
                Heatmap(cumulative[t - 1], title: "Q_{1:\(t)}", xLabel: "x_t", yLabel: "x_0", showValues: true)
            }
            let heatmaps = try renderer.heatmaps(
                maps, title: "Cumulative uniform transition matrices (K = 4, T = 10)",
                to: directory.appendingPathComponent("exercise1-cumulative-q.png"))
            // Uniform noise treats every class alike: one row stands for all.
            let entropy = LineSeries("entropy of row x_0 of Q_{1:t}", y: (0..<steps).map { t in Double(rowEntropy(cumulative[t][0]).item) })
            let ceiling = LineSeries("log K (uniform)", y: [Double](repeating: log(Double(k)), count: steps), dashed: true)
            let curve = try renderer.lines(
                [entropy, ceiling], title: "Entropy of q(x_t | x_0) rises towards log K", xLabel: "t", yLabel: "entropy (nats)",
                to: directory.appendingPathComponent("exercise1-entropy.png"))
            print("Figures: \(heatmaps.path)\n         \(curve.path)")
        } catch {
            print("No figures: \(error)")
        }
    }
}
