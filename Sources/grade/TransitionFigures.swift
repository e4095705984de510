import ArgumentParser
import Checks
import CommandSupport
import D3PM
import Foundation
import Plotting
import Solutions
import Tensors

/// Pictures of the transition matrices an implementation builds: heatmaps of
/// Q_{1:t} at chosen steps and the entropy of q(x_t | x_0) over t.
struct TransitionFigures {
    var steps = 10
    var classes = 4
    var betaStart: Float = 1e-3
    var betaEnd: Float = 0.15
    var shownSteps = [1, 5, 10]
    var transition = Corruption.uniform
    var schedule = NoiseSchedule.linear

    /// Draws both figures into `folder`, prints their paths, and shows them in `display`.
    /// Where gnuplot is missing, says so in one line and returns.
    func draw(implementation: Implementation, folder: String, display: DisplayMode = .file) {
        let renderer: FigureRenderer
        do {
            renderer = try FigureRenderer()
        } catch {
            print("No figures: \(error)")
            return
        }
        let exercises = implementation.exercises
        let betas = schedule.betas(steps: steps, start: betaStart, end: betaEnd)
        // Exercise 1's cumulativeQ is used only for uniform noise; the others use the reference product.
        let onestep = transition.onestep(classes: classes, betas: betas, using: exercises)
        let cumulative = (transition == .uniform ? exercises : ReferenceSolutions.self).cumulativeQ(onestep)
        let states = cumulative.shape[1]
        let name = transition == .uniform ? "" : "\(transition.rawValue)-"
        let directory = URL(fileURLWithPath: folder)
        let terminal = TerminalDisplay(display)
        do {
            let maps = shownSteps.map { t in
                Heatmap(cumulative[t - 1], title: "Q_{1:\(t)}", xLabel: "x_t", yLabel: "x_0", showValues: states <= 8)
            }
            let heatmaps = try renderer.heatmaps(
                maps, title: "Cumulative \(transition.rawValue) transition matrices (\(exercises.name), K = \(classes), T = \(steps), \(schedule.rawValue) schedule)",
                to: directory.appendingPathComponent("\(transition.exercise.id)-\(name)cumulative-q.png"))
            // Every row of a uniform matrix has the same entropy; other matrices may differ by row.
            let rows = (0..<states).map { row in
                LineSeries("row x_0 = \(row)", y: (0..<steps).map { t in Double(rowEntropy(cumulative[t][row]).item) })
            }
            let ceiling = LineSeries("log K (uniform)", y: [Double](repeating: log(Double(states)), count: steps), dashed: true)
            let curve = try renderer.lines(
                (rows.count > 1 && rows.allSatisfy({ $0.y == rows[0].y }) ? [LineSeries("every row x_0", y: rows[0].y)] : rows) + [ceiling],
                title: "Entropy of q(x_t | x_0) over t", xLabel: "t", yLabel: "entropy (nats)", legend: "bottom right",
                to: directory.appendingPathComponent("\(transition.exercise.id)-\(name)entropy.png"))
            print("Figures: \(heatmaps.path)\n         \(curve.path)")
            try terminal.show(heatmaps, text: shownSteps.map { TerminalDisplay.text(matrix: cumulative[$0 - 1], title: "Q_{1:\($0)}") }.joined(separator: "\n\n"))
            try terminal.show(curve, text: "entropy of row 0 by t: " + rows[0].y.map { String(format: "%.3f", $0) }.joined(separator: " "))
        } catch {
            print("No figures: \(error)")
        }
    }
}


extension Grade {
    /// Draws the student's (or the reference) transition matrices.
    struct Plot: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Draw the heatmaps of Q_{1:t} and the entropy curve from your exercise 1 (or the solutions).")

        @Option(help: "The steps t whose Q_{1:t} to draw, comma-separated.")
        var t = "1,5,10"

        @Option(help: "K, the number of classes.")
        var classes = 4

        @Option(help: "T, the number of steps.")
        var steps = 10

        @Option(help: "The first beta of the linear schedule.")
        var betaStart: Float = 1e-3

        @Option(help: "The last beta of the linear schedule.")
        var betaEnd: Float = 0.15

        @Flag(help: "Draw the reference solutions' matrices.")
        var solutions = false

        @Option(help: "uniform (exercise 1), absorbing (exercise 6) or gaussian (exercise 7).")
        var transition: Corruption = .uniform

        @Option(help: "linear, cosine or inverse (1 / (T - t + 1)).")
        var schedule: NoiseSchedule = .linear

        @Option(help: "The folder for the figures.")
        var figures = "output/figures"

        @Option(help: "Also show the figures here: file, sixel, kitty, text or auto.")
        var show: DisplayMode = .auto

        var shownSteps: [Int] { t.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

        func validate() throws {
            guard classes >= 2 && classes <= 64 else { throw ValidationError("--classes must be between 2 and 64, got \(classes)") }
            guard steps >= 1 else { throw ValidationError("--steps must be at least 1, got \(steps)") }
            guard (0...1).contains(betaStart) && (0...1).contains(betaEnd) else {
                throw ValidationError("--beta-start and --beta-end must lie in [0, 1], got \(betaStart) and \(betaEnd)")
            }
            let parts = t.split(separator: ",")
            guard !parts.isEmpty, parts.count == shownSteps.count, shownSteps.allSatisfy({ (1...steps).contains($0) }) else {
                throw ValidationError("--t must list steps between 1 and \(steps), comma-separated; got '\(t)'")
            }
        }

        func run() throws {
            let implementation: Implementation = solutions ? .solutions : .student
            if implementation == .student {
                // A stub or a crash would end this process: check in a child first.
                let exercises = transition == .uniform ? [Exercise.exercise1] : [.exercise1, transition.exercise]
                let checks = exercises.map { CheckCatalog.checks(for: $0)[0] }
                let outcomes = try IsolatedRunner(executable: Bundle.main.executableURL!, implementation: .student, seed: CheckCatalog.defaultSeed, timeout: 10)
                    .run(checks)
                if let outcome = outcomes.first(where: { [.notImplemented, .crashed, .timedOut].contains($0.status) }) {
                    throw CommandFailure("exercise \(outcome.exercise) \(outcome.status.rawValue): \(outcome.message ?? ""). Write its functions first, or add --solutions.")
                }
            }
            let figures = TransitionFigures(steps: steps, classes: classes, betaStart: betaStart, betaEnd: betaEnd, shownSteps: shownSteps,
                                           transition: transition, schedule: schedule)
            figures.draw(implementation: implementation, folder: self.figures, display: show)
        }
    }
}
