import ArgumentParser
import Checks
import CommandSupport
import D3PM
import Datasets
import Diffusion
import Foundation
import Plotting
import Tensors

/// Shows how the forward process corrupts one training digit.
struct Probe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Corrupt one training digit with q(x_t | x_0) and look at real samples over t.",
        discussion: """
            The original practical showed the argmax of q(x_t | x_0), which stays x_0 until \
            the rows of Q_{1:t} are nearly flat, so its pictures never changed. The probe \
            draws real samples with your qSample (exercises 1, 2 and 4 must pass, or add \
            --solutions). It writes probe-strip.png (x_0 and x_t at the chosen steps), \
            probe.gif (x_t as t runs from 1 to T, three independent draws) and probe-keep.png \
            (the probability that a pixel keeps its value, abar_t + (1 - abar_t) / K, against \
            the fraction that did in the draws).
            """
    )

    @OptionGroup var implementation: ImplementationOptions

    @Option(parsing: .unconditional, help: "Which training image to corrupt.")
    var index = 0

    @Option(help: "The steps to show in the strip, comma-separated.")
    var t = "1,25,50,100,150,200"

    @Option(parsing: .unconditional, help: "The seed of the noise.")
    var seed: UInt64 = 0

    @Option(help: "The folder for the pictures.")
    var output = "output/probe"

    @Option(help: "Also show the strip here: file, sixel, kitty, text or auto.")
    var show: DisplayMode = .auto

    @OptionGroup var data: DataOptions

    @Flag(help: "Open a gnuplot window: Right/Left step t by 1, Up/Down by 10, n draws again, x quits.")
    var window = false

    @Option(help: "The corruption: uniform (exercise 1), absorbing ([MASK], exercise 6) or gaussian (exercise 7).")
    var transition: Corruption = .uniform

    @Option(help: "The noise schedule: linear, cosine or inverse (1 / (T - t + 1)).")
    var schedule: NoiseSchedule = .linear

    @Option(parsing: .unconditional, help: "The first beta of the linear schedule (default 1e-3; 0.02 for gaussian).")
    var betaStart: Float?

    @Option(parsing: .unconditional, help: "The last beta of the linear schedule (default 0.1; 1 for gaussian).")
    var betaEnd: Float?

    var steps: [Int] { t.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func validate() throws {
        let configuration = DiffusionConfiguration()
        guard !steps.isEmpty, steps.count == t.split(separator: ",").count,
            steps.allSatisfy({ (1...configuration.numSteps).contains($0) })
        else {
            throw ValidationError(
                "--t must list steps between 1 and \(configuration.numSteps), comma-separated; got '\(t)'")
        }
        guard index >= 0 else { throw ValidationError("--index must be 0 or more, got \(index)") }
    }

    func run() throws {
        try OutputFolder.prepare(output)
        try implementation.requireExercisesPass(
            ([1, 2, 4] + [transition.exercise.number]).compactMap(Catalog.exercise).uniqued())
        let trainingSet = try MNIST(split: .train, directory: try data.directory())
        guard index < trainingSet.count else {
            throw ValidationError("--index must be below \(trainingSet.count), got \(index)")
        }
        var configuration = DiffusionConfiguration()
        configuration.corruption = transition
        configuration.schedule = schedule
        configuration.betaStart = betaStart ?? (transition == .gaussian ? 0.02 : 1e-3)
        configuration.betaEnd = betaEnd ?? (transition == .gaussian ? 1 : 0.1)
        let (k, numSteps, states) = (configuration.numClasses, configuration.numSteps, configuration.numStates)
        let exercises = implementation.exercises
        let matrices = TransitionMatrices(
            qOnestep: transition.onestep(classes: k, betas: configuration.betas, using: exercises), using: exercises)
        let masked = transition == .absorbing
        let (x0, labels) = trainingSet.batch([index], levels: k)
        let (h, w) = (trainingSet.height, trainingSet.width)
        var rng = RandomGenerator(seed: seed)

        /// `draws` independent samples of x_t.
        func corrupt(_ step: Int, draws: Int) -> IntTensor {
            let batch = IntTensor(
                shape: [draws, 1, h, w], scalars: Array(repeating: x0.scalars, count: draws).flatMap { $0 })
            return exercises.qSample(
                x0: batch, t: IntTensor.full([draws], step),
                noise: Tensor.uniform([draws, 1, h, w, states], using: &rng),
                qCumulative: matrices.qCumulative)
        }
        func keepProbability(_ step: Int) -> Double {
            (0..<k).reduce(0.0) { $0 + Double(matrices.qCumulative[at: step - 1, $1, $1]) } / Double(k)
        }
        func image(_ images: IntTensor, _ i: Int) -> Tensor { images[i].reshaped([h, w]).asFloat }

        let folder = URL(fileURLWithPath: output)
        let renderer = try FigureRenderer()
        let original = image(x0, 0)
        var strip = [ImagePanel(original, title: "x_0 (label \(labels.scalars[0]))")]
        var textPanels: [(title: String, image: Tensor)] = [("x_0", original)]
        for step in steps {
            let sample = image(corrupt(step, draws: 1), 0)
            strip.append(ImagePanel(sample, title: String(format: "t = %d, keep %.2f", step, keepProbability(step))))
            textPanels.append(("t = \(step)", sample))
        }
        let stripURL = try renderer.imageGrid(
            strip, columns: strip.count, levels: k, masked: masked,
            title: "Samples of q(x_t | x_0), \(transition.rawValue) noise",
            to: folder.appendingPathComponent("probe-strip.png"), panelSize: 130)

        var frames: [[ImagePanel]] = [], titles: [String] = []
        var kept: [Double] = [], frameSteps: [Double] = []
        for step in stride(from: 1, through: numSteps, by: 4) {
            let draws = corrupt(step, draws: 3)
            frames.append((0..<3).map { ImagePanel(image(draws, $0), title: "draw \($0 + 1)") })
            titles.append(String(format: "t = %d: a pixel keeps its value with p = %.2f", step, keepProbability(step)))
            let same = zip(draws.scalars, Array(repeating: x0.scalars, count: 3).flatMap { $0 }).filter { $0 == $1 }
                .count
            kept.append(Double(same) / Double(draws.count))
            frameSteps.append(Double(step))
        }
        let gif = try renderer.animation(
            frames, columns: 3, levels: k, masked: masked, titles: titles, delay: 12,
            to: folder.appendingPathComponent("probe.gif"), panelSize: 160)
        let curve = try renderer.lines(
            [
                LineSeries(
                    "P(x_t = x_0), averaged over the K classes", x: (1...numSteps).map(Double.init),
                    y: (1...numSteps).map(keepProbability)),
                LineSeries("fraction kept in the draws", x: frameSteps, y: kept, dashed: true),
            ],
            title: "Probability that a pixel keeps its value", xLabel: "t", yLabel: "probability",
            to: folder.appendingPathComponent("probe-keep.png"))
        print("Pictures: \(stripURL.path)\n          \(gif.path)\n          \(curve.path)")
        try TerminalDisplay(show).show(stripURL, text: TerminalDisplay.text(images: textPanels, levels: k))
        if window {
            try explore(
                original: original, digit: labels.scalars[0], corrupt: { image(corrupt($0, draws: 1), 0) },
                keepProbability: keepProbability, levels: k, masked: masked, numSteps: numSteps)
        }
    }

    /// The interactive window: one sample of x_t beside x_0, redrawn as keys change t.
    func explore(
        original: Tensor, digit: Int, corrupt: (Int) -> Tensor, keepProbability: (Int) -> Double, levels: Int,
        masked: Bool, numSteps: Int
    ) throws {
        let gnuplot = try Gnuplot()
        let (terminal, reason) = GnuplotSession.windowTerminal(gnuplot: gnuplot)
        guard let terminal else {
            print("No window: \(reason). The pictures above are in files.")
            return
        }
        let session = try GnuplotSession(gnuplot: gnuplot)
        defer { session.close() }
        session.send("set terminal \(terminal) size 720,400 title 'd3pm probe'\n")
        print("Window open: Right/Left step t by 1, Up/Down by 10, n draws again, x quits.")
        var step = steps.first ?? 50
        while true {
            let title =
                String(format: "t = %d: a pixel keeps its value with p = %.2f", step, keepProbability(step))
                + "\\nkeys: Right/Left t +1/-1, Up/Down t +10/-10, n new draw, x quit"
            session.send(
                GnuplotSession.imagesScript(
                    [ImagePanel(original, title: "x_0 (label \(digit))"), ImagePanel(corrupt(step), title: "x_t")],
                    levels: levels, masked: masked, title: title))
            print("t = \(step)")
            guard let key = session.nextKey() else { return }
            switch key {
            case 1010, Int(Character("l").asciiValue!): step = min(step + 1, numSteps)
            case 1008, Int(Character("h").asciiValue!): step = max(step - 1, 1)
            case 1009, Int(Character("k").asciiValue!): step = min(step + 10, numSteps)
            case 1011, Int(Character("j").asciiValue!): step = max(step - 10, 1)
            case Int(Character("x").asciiValue!): return
            case ..<0: return  // the window was closed
            default: break  // n and any other key: a new draw at the same t
            }
        }
    }
}

extension Array where Element == ExerciseInfo {
    /// The exercises in order, each once.
    func uniqued() -> [ExerciseInfo] {
        var seen = Set<Int>()
        return filter { seen.insert($0.number).inserted }
    }
}
