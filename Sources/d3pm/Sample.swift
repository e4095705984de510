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

    @Option(help: "How many samples.")
    var count = 16

    @Option(help: "The digit of each sample, comma-separated (default: i mod 10 for sample i).")
    var labels: String?

    @Option(help: "The seed of the starting noise and of each step's noise.")
    var seed: UInt64 = 0

    @Option(help: "The folder for the pictures and the arrays.")
    var output = "output/samples"

    @Option(help: "Grid columns in samples.png.")
    var columns = 4

    func parsedLabels() throws -> [Int] {
        guard let labels else { return (0..<count).map { $0 % 10 } }
        let values = labels.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let digits = try values.map { text -> Int in
            guard let digit = Int(text), (0...9).contains(digit) else {
                throw ValidationError("--labels: '\(text)' is not a digit 0-9")
            }
            return digit
        }
        guard !digits.isEmpty else { throw ValidationError("--labels: no labels given") }
        return digits
    }

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be at least 1, got \(count)") }
        guard columns >= 1 else { throw ValidationError("--columns must be at least 1, got \(columns)") }
        _ = try parsedLabels()
    }

    func run() throws {
        let url = URL(fileURLWithPath: checkpoint)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw CommandFailure(
                "no checkpoint at \(url.path): train one with `swift run -c release d3pm train --solutions`, or pass --checkpoint"
            )
        }
        let saved = try TrainingCheckpoint.load(from: url)
        try implementation.requireExercisesPass(saved.progress.configuration.corruption.requiredExercises)
        let diffusion = DiscreteDiffusion(
            exercises: implementation.exercises, configuration: saved.progress.configuration)
        let digits = try parsedLabels()
        let labelTensor = IntTensor(labels == nil ? digits : (0..<count).map { digits[$0 % digits.count] })
        var rng = RandomGenerator(seed: seed)
        var bar = ProgressBar(total: diffusion.configuration.numSteps, label: "sample")
        let steps = diffusion.configuration.numSteps
        let (samples, frames) = diffusion.sample(model: saved.model, labels: labelTensor, frameStride: 10, using: &rng)
        { step in
            bar.update(steps - step + 1, detail: "t = \(step)")
        }
        let folder = URL(fileURLWithPath: output)
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
            let stripFrames = frames.filter { $0.t % 40 == 0 }
            let shown = min(labelTensor.count, 4)
            var panels: [ImagePanel] = []
            for i in 0..<shown {
                for frame in stripFrames {
                    panels.append(ImagePanel(image(frame.images, i), title: "y=\(labelTensor.scalars[i]) t=\(frame.t)"))
                }
            }
            let masked = diffusion.configuration.corruption == .absorbing
            let chainTitle = "The reverse chain, every 40 steps"
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
}
