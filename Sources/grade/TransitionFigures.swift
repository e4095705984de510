import ArgumentParser
import Checks
import CommandSupport
import D3PM
import Foundation
import Grading
import Plotting
import Tensors

/// Pictures of the transition matrices an implementation builds: heatmaps of
/// Q_{1:t} at chosen steps and the entropy of q(x_t | x_0) over t. The
/// matrices come from the runner: the grader never calls the code it draws.
struct TransitionFigures {
    var steps = 10
    var classes = 4
    var betaStart: Float = 1e-3
    var betaEnd: Float = 0.15
    var shownSteps = [1, 5, 10]
    var transition = Corruption.uniform
    var schedule = NoiseSchedule.linear

    /// The one-step matrices and their products, made by the runner. Exercise
    /// 1's cumulativeQ serves uniform noise; other matrices are multiplied here.
    func matrices(with grader: Grader) throws -> (onestep: Tensor, cumulative: Tensor) {
        let betas = schedule.betas(steps: steps, start: betaStart, end: betaEnd)
        let call: ExerciseCall =
            switch transition {
            case .uniform: .makeUniformQOnestep(numClasses: classes, betas: betas)
            case .absorbing: .makeAbsorbingQOnestep(numClasses: classes, betas: betas)
            case .gaussian: .makeGaussianQOnestep(numClasses: classes, betas: betas)
            }
        guard let onestep = try grader.perform([call])[0].value, onestep.rank == 3, onestep.shape[0] == steps,
            onestep.shape[1] == onestep.shape[2]
        else {
            throw CommandFailure("\(call.function) did not return [T, K, K] matrices")
        }
        if transition == .uniform {
            guard let cumulative = try grader.perform([.cumulativeQ(onestep)])[0].value,
                cumulative.shape == onestep.shape
            else {
                throw CommandFailure("cumulativeQ did not return matrices of shape \(onestep.shape)")
            }
            return (onestep, cumulative)
        }
        var products = [onestep[0]]
        for t in 1..<steps { products.append(matmul(products[t - 1], onestep[t])) }
        return (onestep, stack(products))
    }

    /// Draws both figures into `folder` (the solutions' into its `solutions/`
    /// subfolder), prints their paths, and shows them in `display`. Where
    /// gnuplot is missing, says so in one line and returns.
    func draw(with grader: Grader, implementation: Implementation, folder: String, display: DisplayMode = .file) {
        let renderer: FigureRenderer
        do {
            renderer = try FigureRenderer()
        } catch {
            print("No figures: \(error)")
            return
        }
        do {
            let cumulative = try matrices(with: grader).cumulative
            let states = cumulative.shape[1]
            let stateNames = (0..<states).map { transition == .absorbing && $0 == states - 1 ? "M" : "\($0)" }
            let name = transition == .uniform ? "" : "\(transition.rawValue)-"
            let directory = URL(fileURLWithPath: folder).appendingPathComponent(
                implementation == .solutions ? "solutions" : "")
            let terminal = TerminalDisplay(display)
            let who = implementation == .student ? "your functions" : "reference solutions"
            let maps = shownSteps.map { t in
                Heatmap(
                    cumulative[t - 1], title: "Q_{1:\(t)}", xLabel: "x_t", yLabel: "x_0", showValues: states <= 8,
                    labels: stateNames)
            }
            let stateText = transition == .absorbing ? "K = \(classes) + [MASK] (M)" : "K = \(classes)"
            let heatmaps = try renderer.heatmaps(
                maps,
                title:
                    "Cumulative \(transition.rawValue) matrices (\(who), \(stateText), T = \(steps), \(schedule.rawValue) schedule)",
                to: directory.appendingPathComponent("\(transition.exercise.id)-\(name)cumulative-q.png"))
            let rows = (0..<states).map { row in
                LineSeries(
                    "row x_0 = \(stateNames[row])",
                    y: (0..<steps).map { t in Double(rowEntropy(cumulative[t][row]).item) })
            }
            // Rows with the same curve share one line and one legend entry.
            var series: [LineSeries] = []
            for row in rows {
                if let index = series.firstIndex(where: { zip($0.y, row.y).allSatisfy { abs($0 - $1) < 1e-6 } }) {
                    series[index].name += ", " + row.name.replacingOccurrences(of: "row x_0 = ", with: "")
                } else {
                    series.append(row)
                }
            }
            if series.count == 1 && rows.count > 1 { series[0].name = "every row x_0 (the curves coincide)" }
            let ceiling = LineSeries(
                "log \(states) (uniform)", y: [Double](repeating: log(Double(states)), count: steps), dashed: true)
            let curve = try renderer.lines(
                series + [ceiling], title: "Entropy of q(x_t | x_0) over t (\(who))", xLabel: "t",
                yLabel: "entropy (nats)",
                legend: "below",
                to: directory.appendingPathComponent("\(transition.exercise.id)-\(name)entropy.png"))
            print("Figures: \(heatmaps.path)\n         \(curve.path)")
            try terminal.show(
                heatmaps,
                text: shownSteps.map { TerminalDisplay.text(matrix: cumulative[$0 - 1], title: "Q_{1:\($0)}") }.joined(
                    separator: "\n\n"))
            try terminal.show(
                curve,
                text: "entropy of row 0 by t: " + rows[0].y.map { String(format: "%.3f", $0) }.joined(separator: " "))
        } catch {
            print("No figures: \(error)")
        }
    }
}

extension Grade {
    /// Draws the student's (or the reference) transition matrices.
    struct Plot: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Draw the heatmaps of Q_{1:t} and the entropy curve from your exercise 1, 6 or 7 (or the solutions).")

        @Option(help: "The steps t whose Q_{1:t} to draw, comma-separated.")
        var t = "1,5,10"

        @Option(parsing: .unconditional, help: "K, the number of classes.")
        var classes = 4

        @Option(parsing: .unconditional, help: "T, the number of steps.")
        var steps = 10

        @Option(
            parsing: .unconditional, help: "The first beta of the linear schedule (default 1e-3; 0.02 for gaussian).")
        var betaStart: Float?

        @Option(parsing: .unconditional, help: "The last beta of the linear schedule (default 0.15; 1 for gaussian).")
        var betaEnd: Float?

        @OptionGroup var options: GradingOptions

        @Option(help: "uniform (exercise 1), absorbing (exercise 6) or gaussian (exercise 7).")
        var transition: Corruption = .uniform

        @Option(help: "linear, cosine or inverse (1 / (T - t + 1)).")
        var schedule: NoiseSchedule = .linear

        @Option(help: "The folder for the figures.")
        var figures = "output/figures"

        @Option(help: "Also show the figures here: file, sixel, kitty, text or auto.")
        var show: DisplayMode = .auto

        var shownSteps: [Int] {
            t.split(separator: ",", omittingEmptySubsequences: false).compactMap {
                Int($0.trimmingCharacters(in: .whitespaces))
            }
        }

        func validate() throws {
            guard classes >= 2 && classes <= 64 else {
                throw ValidationError("--classes must be between 2 and 64, got \(classes)")
            }
            guard steps >= 1 && steps <= 10_000 else {
                throw ValidationError("--steps must be between 1 and 10000, got \(steps)")
            }
            for (name, beta) in [("--beta-start", betaStart), ("--beta-end", betaEnd)] {
                if let beta, !(0...1).contains(beta) {
                    throw ValidationError("\(name) must lie in [0, 1], got \(beta)")
                }
            }
            let parts = t.split(separator: ",", omittingEmptySubsequences: false)
            guard !parts.isEmpty, parts.count == shownSteps.count, shownSteps.allSatisfy({ (1...steps).contains($0) })
            else {
                throw ValidationError("--t must list steps between 1 and \(steps), comma-separated; got '\(t)'")
            }
        }

        func run() throws {
            try OutputFolder.prepare(figures)
            let gaussian = transition == .gaussian
            let figures = TransitionFigures(
                steps: steps, classes: classes, betaStart: betaStart ?? (gaussian ? 0.02 : 1e-3),
                betaEnd: betaEnd ?? (gaussian ? 1 : 0.15),
                shownSteps: shownSteps, transition: transition, schedule: schedule)
            let grader = try options.grader()
            do {
                _ = try figures.matrices(with: grader)
            } catch let problem as Grader.Problem {
                throw CommandFailure(
                    "exercise \(transition.exercise.number) \(problem.status.rawValue): \(problem.message). Write its functions first, or add --solutions."
                )
            }
            figures.draw(
                with: grader, implementation: options.implementation.implementation, folder: self.figures, display: show
            )
        }
    }
}
