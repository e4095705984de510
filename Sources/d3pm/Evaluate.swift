import ArgumentParser
import Checks
import CommandSupport
import D3PM
import Datasets
import Diffusion
import Foundation
import Plotting
import Tensors

/// The likelihood bound of a trained model on the MNIST test set.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "The negative log-likelihood bound in bits per dimension on MNIST test images.",
        discussion: """
            Sums the prior term L_T, every KL term L_{t-1} (t = 2...T, one sample of x_t each) \
            and the reconstruction term L_0, and divides by (pixels x ln 2). It needs T model \
            evaluations per image: the first 500 test images take about a minute; --images 10000 \
            takes the whole test set. Writes bound-terms.png (the terms over t) and bound-terms.csv.
            """
    )

    @OptionGroup var implementation: ImplementationOptions

    @Option(help: "The checkpoint to evaluate.")
    var checkpoint = "output/train/checkpoint.safetensors"

    @Option(parsing: .unconditional, help: "How many test images (from the first).")
    var images = 500

    @Option(parsing: .unconditional, help: "Images per model evaluation.")
    var batchSize = 100

    @Option(parsing: .unconditional, help: "The seed of the noise.")
    var seed: UInt64 = 0

    @Option(help: "The folder for the plot and the CSV of the terms.")
    var output = "output/eval"

    @OptionGroup var data: DataOptions

    @Option(help: "A classifier from `d3pm classifier`: also report the conditional accuracy of samples.")
    var classifier: String?

    @Option(parsing: .unconditional, help: "Samples per digit for the conditional accuracy.")
    var samplesPerDigit = 10

    @Flag(help: "Skip the likelihood bound (only the conditional accuracy).")
    var noBound = false

    func validate() throws {
        guard images >= 1 else { throw ValidationError("--images must be at least 1, got \(images)") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
    }

    func run() throws {
        try OutputFolder.prepare(output)
        guard !noBound || classifier != nil else {
            throw ValidationError("--no-bound leaves nothing to do without --classifier")
        }
        let url = URL(fileURLWithPath: checkpoint)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw CommandFailure(
                "no checkpoint at \(url.path): train one with `swift run -c release d3pm train --solutions`, or pass --checkpoint"
            )
        }
        let saved = try TrainingCheckpoint.load(from: url)
        let configuration = saved.progress.configuration
        try implementation.requireExercisesPass(configuration.corruption.requiredExercises)
        let diffusion = DiscreteDiffusion(exercises: implementation.exercises, configuration: configuration)
        if let classifier {
            try reportConditionalAccuracy(diffusion: diffusion, model: saved.model, classifierFile: classifier)
        }
        guard !noBound else { return }
        let testSet = try MNIST(split: .test, directory: try data.directory())
        let count = min(images, testSet.count)
        var rng = RandomGenerator(seed: seed)
        let batches = stride(from: 0, to: count, by: batchSize).map { Array($0..<min($0 + batchSize, count)) }
        var bar = ProgressBar(total: batches.count * configuration.numSteps, label: "eval")
        var parts: [(bound: LikelihoodBound, count: Int)] = []
        for (index, batch) in batches.enumerated() {
            let (x0, y) = testSet.batch(batch, levels: configuration.numClasses)
            var done = 0
            let bound = diffusion.likelihoodBound(model: saved.model, x0: x0, y: y, using: &rng) { _ in
                done += 1
                bar.update(index * configuration.numSteps + done, detail: "batch \(index + 1)/\(batches.count)")
            }
            parts.append((bound, batch.count))
        }
        let bound = LikelihoodBound.average(parts)
        let perDimension = Double(bound.pixels) * log(2)
        print(
            String(
                format: """
                    NLL bound on %d %@ test images (%@ corruption, %@ schedule, T = %d):
                      prior L_T            %.4f bits/dim
                      KL terms L_1..L_T-1  %.4f bits/dim
                      reconstruction L_0   %.4f bits/dim
                      total                %.4f bits/dim
                    """, count, data.dataset.rawValue, configuration.corruption.rawValue,
                configuration.schedule.rawValue, configuration.numSteps,
                // A KL is never negative; rounding can leave a prior term of -1e-9.
                max(bound.prior, 0) / perDimension, bound.terms.reduce(0, +) / perDimension,
                bound.reconstruction / perDimension, bound.bitsPerDimension))
        let folder = URL(fileURLWithPath: output)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var csv = "t,term,nats_per_image,bits_per_dim\n"
        csv += String(
            format: "%d,prior,%.6f,%.6f\n", configuration.numSteps + 1, bound.prior, bound.prior / perDimension)
        for (i, term) in bound.terms.enumerated() {
            csv += String(format: "%d,kl,%.6f,%.6f\n", i + 2, term, term / perDimension)
        }
        csv += String(
            format: "%d,reconstruction,%.6f,%.6f\n", 1, bound.reconstruction, bound.reconstruction / perDimension)
        try Data(csv.utf8).write(to: folder.appendingPathComponent("bound-terms.csv"), options: .atomic)
        do {
            let plot = try FigureRenderer().lines(
                [
                    LineSeries(
                        "KL term L_{t-1}", x: (2...configuration.numSteps).map(Double.init),
                        y: bound.terms.map { max($0 / perDimension, 1e-9) }),
                    LineSeries("reconstruction L_0", x: [1], y: [bound.reconstruction / perDimension]),
                ],
                title: String(format: "Terms of the bound (total %.3f bits/dim)", bound.bitsPerDimension),
                xLabel: "t", yLabel: "bits per dimension", logY: true,
                to: folder.appendingPathComponent("bound-terms.png"))
            print("Terms: \(plot.path)\n       \(folder.appendingPathComponent("bound-terms.csv").path)")
        } catch {
            print("No plot: \(error)")
        }
    }

    /// Samples `samplesPerDigit` images of each digit and reports the fraction the classifier labels as asked.
    func reportConditionalAccuracy(diffusion: DiscreteDiffusion, model: any X0Model, classifierFile: String) throws {
        let (judge, testAccuracy) = try DigitClassifier.load(from: URL(fileURLWithPath: classifierFile))
        let labels = IntTensor((0..<(10 * samplesPerDigit)).map { $0 % 10 })
        var rng = RandomGenerator(seed: seed &+ 1)
        var bar = ProgressBar(total: diffusion.configuration.numSteps, label: "samples")
        let steps = diffusion.configuration.numSteps
        let (samples, _) = diffusion.sample(model: model, labels: labels, frameStride: steps, using: &rng) {
            bar.update(steps - $0 + 1)
        }
        let predicted = judge.predict(samples).scalars
        var perDigit = [Int](repeating: 0, count: 10)
        for (p, y) in zip(predicted, labels.scalars) where p == y { perDigit[y] += 1 }
        let accuracy = Double(perDigit.reduce(0, +)) / Double(labels.count)
        print(
            String(
                format:
                    "Conditional accuracy: %.1f%% of %d samples classified as their label (classifier: %.2f%% on the test set)",
                accuracy * 100, labels.count, testAccuracy * 100))
        print(
            "  per digit: "
                + perDigit.enumerated().map { "\($0.offset): \($0.element)/\(samplesPerDigit)" }.joined(separator: "  ")
        )
    }
}
