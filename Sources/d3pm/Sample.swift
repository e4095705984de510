import ArgumentParser
import Checks
import CommandSupport
import D3PM
import Datasets
import Diffusion
import Foundation
import Plotting
import Tensors

/// Draws digits of chosen classes with a trained model.
struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sample digits from a trained checkpoint through the full reverse chain.",
        discussion: """
            Writes into the output folder: samples.png (the samples in a grid, titled by label), \
            chain.png (the reverse chain every 40 steps, one row per sample), chain.gif (the chain \
            as an animation), samples.npy (uint8 [N, 28, 28], gray levels 0..K-1) and labels.npy (int64 [N]).
            """
    )

    @OptionGroup var implementation: ImplementationOptions

    @Option(help: "The checkpoint to sample from.")
    var checkpoint = "output/train/checkpoint.safetensors"

    @Option(parsing: .unconditional, help: "How many samples (default: 16, or one per label of --labels).")
    var count: Int?

    @Option(help: "The digit of each sample, comma-separated (default: i mod 10 for sample i).")
    var labels: String?

    @Option(parsing: .unconditional, help: "The seed of the starting noise and of each step's noise.")
    var seed: UInt64 = 0

    @Option(
        parsing: .unconditional,
        help:
            "Jumps from t = T to 0 (default: every step, T). Fewer jumps use exercise 8's posterior: 20 is ten times faster than 200."
    )
    var steps: Int?

    @Option(
        help: """
            Classifier-free guidance weight w (default 0: none), or several, comma-separated, \
            for guidance.png: the same seeds at each w, one row per w. Needs a model trained \
            with label dropout (the unet's default).
            """)
    var guidance = "0"

    @Option(help: "The folder for the pictures and the arrays.")
    var output = "output/samples"

    @Option(parsing: .unconditional, help: "Grid columns in samples.png.")
    var columns = 4

    /// One digit per sample.
    func parsedLabels() throws -> [Int] {
        guard let labels else { return (0..<(count ?? 16)).map { $0 % 10 } }
        let values = labels.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        let digits = try values.enumerated().map { index, text -> Int in
            guard !text.isEmpty else { throw ValidationError("--labels: item \(index + 1) of '\(labels)' is empty") }
            guard let digit = Int(text), (0...9).contains(digit) else {
                throw ValidationError("--labels: '\(text)' is not a digit 0-9")
            }
            return digit
        }
        if let count, count != digits.count {
            throw ValidationError(
                "--count \(count) but --labels lists \(digits.count) digits: give one label per sample, or leave out --count"
            )
        }
        return digits
    }

    func validate() throws {
        _ = try GuidanceOption.weights(guidance)
        if let count, count < 1 { throw ValidationError("--count must be at least 1, got \(count)") }
        guard columns >= 1 else { throw ValidationError("--columns must be at least 1, got \(columns)") }
        _ = try parsedLabels()
    }

    // The weights are rearranged for their kernels once, for every batch and guidance weight.
    func run() throws { try withCachedWeights(runWithCachedWeights) }

    private func runWithCachedWeights() throws {
        try OutputFolder.prepare(output)
        let url = URL(fileURLWithPath: checkpoint)
        guard FileManager.default.fileExists(atPath: url.path) else {
            let given = CommandLine.arguments.contains { $0 == "--checkpoint" || $0.hasPrefix("--checkpoint=") }
            throw CommandFailure(
                "no checkpoint at \(url.path): train one with `swift run -c release d3pm train --solutions`"
                    + (given ? "" : ", or pass --checkpoint"))
        }
        let saved = try TrainingCheckpoint.load(from: url)
        let numSteps = saved.progress.configuration.numSteps
        if let steps, !(1...numSteps).contains(steps) {
            throw ValidationError("--steps must be between 1 and \(numSteps) (the checkpoint's T), got \(steps)")
        }
        let jumps = steps.flatMap { $0 < numSteps ? $0 : nil }
        try implementation.requireExercisesPass(
            saved.progress.configuration.corruption.requiredExercises
                + (jumps == nil ? [] : Catalog.exercise(8).map { [$0] } ?? []))
        let diffusion = DiscreteDiffusion(
            exercises: implementation.exercises, configuration: saved.progress.configuration)
        let digits = try parsedLabels()
        let labelTensor = IntTensor(digits)
        let weights = try GuidanceOption.weights(guidance)
        try GuidanceOption.requireGuidable(weights, model: saved.model, checkpoint: url.path)
        let folder = URL(fileURLWithPath: output)
        /// The samples and the chain at guidance `w`, from the seed's noise.
        func draw(guidance w: Float, label: String) -> (samples: IntTensor, frames: [(t: Int, images: IntTensor)]) {
            var rng = RandomGenerator(seed: seed)
            var bar = ProgressBar(total: jumps ?? numSteps, label: label)
            var done = 0
            return diffusion.sample(
                model: saved.model, labels: labelTensor, steps: jumps ?? numSteps, guidance: w, frameStride: 10,
                using: &rng
            ) { step in
                done += 1
                bar.update(done, detail: "t = \(step)")
            }
        }
        if weights.count > 1 {
            try compareGuidance(weights, labels: labelTensor, diffusion: diffusion, folder: folder) {
                draw(guidance: $0, label: String(format: "w = %g", $0)).samples
            }
            return
        }
        let (samples, frames) = draw(guidance: weights[0], label: "sample")
        let (h, w) = (samples.shape[2], samples.shape[3])
        try NumPyFile.write(
            uint8: samples.scalars.map { UInt8($0) }, shape: [labelTensor.count, h, w],
            to: folder.appendingPathComponent("samples.npy"))
        try NumPyFile.write(
            int64: labelTensor.scalars, shape: [labelTensor.count], to: folder.appendingPathComponent("labels.npy"))
        print(
            "Arrays:   \(folder.appendingPathComponent("samples.npy").path), \(folder.appendingPathComponent("labels.npy").path)"
        )
        do {
            let renderer = try FigureRenderer()
            func image(_ images: IntTensor, _ i: Int) -> Tensor { images[i].reshaped([h, w]).asFloat }
            let grid = try renderer.imageGrid(
                (0..<labelTensor.count).map {
                    ImagePanel(image(samples, $0), title: "label \(labelTensor.scalars[$0])")
                },
                columns: columns, levels: diffusion.configuration.numClasses, title: "Samples",
                to: folder.appendingPathComponent("samples.png"))
            // Six frames of the chain, evenly spaced (every 40 steps of the full chain).
            let stripFrames = (0..<6).map { frames[($0 * (frames.count - 1) + 2) / 5] }
            let shown = min(labelTensor.count, 4)
            var panels: [ImagePanel] = []
            for i in 0..<shown {
                for frame in stripFrames {
                    panels.append(ImagePanel(image(frame.images, i), title: "y=\(labelTensor.scalars[i]) t=\(frame.t)"))
                }
            }
            let masked = diffusion.configuration.corruption == .absorbing
            let chainTitle = "The reverse chain" + (steps.map { $0 < numSteps ? " in \($0) jumps" : "" } ?? "")
            let strip = try renderer.imageGrid(
                panels, columns: stripFrames.count, levels: diffusion.configuration.numClasses, masked: masked,
                title: chainTitle,
                to: folder.appendingPathComponent("chain.png"), panelSize: 110)
            let animation = try renderer.animation(
                frames.map { frame in
                    (0..<labelTensor.count).map {
                        ImagePanel(image(frame.images, $0), title: "label \(labelTensor.scalars[$0])")
                    }
                },
                columns: columns, levels: diffusion.configuration.numClasses, masked: masked,
                titles: frames.map { "t = \($0.t)" }, to: folder.appendingPathComponent("chain.gif"))
            print("Pictures: \(grid.path)\n          \(strip.path)\n          \(animation.path)")
        } catch {
            print("No pictures: \(error)")
        }
    }

    /// Samples the same seeds at each guidance weight: guidance-w<w>.npy per
    /// weight and guidance.png, one row per weight.
    func compareGuidance(
        _ weights: [Float], labels: IntTensor, diffusion: DiscreteDiffusion, folder: URL,
        draw: (Float) -> IntTensor
    ) throws {
        var rows: [(w: Float, samples: IntTensor)] = []
        for w in weights {
            let samples = draw(w)
            let file = folder.appendingPathComponent(String(format: "guidance-w%g.npy", w))
            try NumPyFile.write(
                uint8: samples.scalars.map { UInt8($0) }, shape: [labels.count] + samples.shape.suffix(2), to: file)
            rows.append((w, samples))
        }
        try NumPyFile.write(
            int64: labels.scalars, shape: [labels.count], to: folder.appendingPathComponent("labels.npy"))
        print("Arrays:   \(folder.path)/guidance-w*.npy, labels.npy")
        do {
            let (h, w) = (rows[0].samples.shape[2], rows[0].samples.shape[3])
            let panels = rows.flatMap { row in
                (0..<labels.count).map {
                    ImagePanel(
                        row.samples[$0].reshaped([h, w]).asFloat,
                        title: String(format: "w=%g y=%d", row.w, labels.scalars[$0]))
                }
            }
            let figure = try FigureRenderer().imageGrid(
                panels, columns: labels.count, levels: diffusion.configuration.numClasses,
                masked: diffusion.configuration.corruption == .absorbing,
                title: "The same seeds under guidance weights "
                    + weights.map { String(format: "%g", $0) }.joined(separator: ", "),
                to: folder.appendingPathComponent("guidance.png"), panelSize: 90)
            print("Picture:  \(figure.path)")
        } catch {
            print("No picture: \(error)")
        }
    }
}
