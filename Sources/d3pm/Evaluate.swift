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
            evaluations per image: the first 500 test images take about half a minute; --images 10000 \
            takes the whole test set. Writes bound-terms.png (the terms over t) and bound-terms.csv.

            With --classifier it also samples --samples-per-digit images of each digit and \
            reports their conditional accuracy (the fraction the classifier reads as their label) \
            and their Fréchet distance to the test set on the classifier's penultimate features, \
            beside two real-vs-real floors: as many training images as samples, and the whole \
            training set. --guidance and --steps take lists: every pair is measured, into \
            quality.csv, and plotted against w and against S.
            """
    )

    @OptionGroup var implementation: ImplementationOptions

    @Option(help: "The checkpoint to evaluate.")
    var checkpoint = "output/train/checkpoint.safetensors"

    @Option(parsing: .unconditional, help: "How many test images (from the first).")
    var images = 500

    @Option(
        parsing: .unconditional,
        help: "Images per model evaluation (16 ran as fast as 8 or 32, and 4 slower).")
    var batchSize = 16

    @Option(parsing: .unconditional, help: "The seed of the noise.")
    var seed: UInt64 = 0

    @Option(help: "The folder for the plot and the CSV of the terms.")
    var output = "output/eval"

    @OptionGroup var data: DataOptions

    @Option(
        help:
            "A classifier from `d3pm classifier`: also report the conditional accuracy and Fréchet distance of samples."
    )
    var classifier: String?

    @Option(parsing: .unconditional, help: "Samples per digit for the conditional accuracy and the distance.")
    var samplesPerDigit = 100

    @Option(help: "Guidance weights w to sample with, comma-separated (with --classifier).")
    var guidance = "0"

    @Option(help: "Sampling jumps S, comma-separated (with --classifier; default: T, every step).")
    var steps: String?

    @Option(parsing: .unconditional, help: "Samples drawn at once.")
    var sampleBatch = 250

    @Flag(help: "Skip the likelihood bound (only the conditional accuracy).")
    var noBound = false

    /// The jump counts of `--steps` (each at least 1; checked against the
    /// checkpoint's T once it is read), or nil for every step.
    func jumpCounts() throws -> [Int]? {
        try steps.map { text in
            try text.split(separator: ",", omittingEmptySubsequences: false).map {
                let item = $0.trimmingCharacters(in: .whitespaces)
                guard let jumps = Int(item), jumps >= 1 else {
                    throw ValidationError("--steps: '\(item)' in '\(text)' is not valid")
                }
                return jumps
            }
        }
    }

    func validate() throws {
        _ = try GuidanceOption.weights(guidance)
        _ = try jumpCounts()
        guard samplesPerDigit >= 2 else {
            throw ValidationError(
                "--samples-per-digit must be at least 2 (a covariance needs two), got \(samplesPerDigit)")
        }
        guard sampleBatch >= 1 else { throw ValidationError("--sample-batch must be at least 1, got \(sampleBatch)") }
        guard images >= 1 else { throw ValidationError("--images must be at least 1, got \(images)") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
    }

    // The weights are rearranged for their kernels once, for every batch of the bound and every sample.
    func run() throws { try withCachedWeights(runWithCachedWeights) }

    private func runWithCachedWeights() throws {
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
            try reportSampleQuality(diffusion: diffusion, model: saved.model, classifierFile: classifier)
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

    /// Samples `samplesPerDigit` images of each digit at every guidance
    /// weight and number of jumps asked for, and reports how often the
    /// classifier reads them as their label and their Fréchet distance to the
    /// test set; writes quality.csv and, for several settings, the plots.
    func reportSampleQuality(diffusion: DiscreteDiffusion, model: any X0Model, classifierFile: String) throws {
        let numSteps = diffusion.configuration.numSteps
        let weights = try GuidanceOption.weights(guidance), jumpCounts = try jumpCounts() ?? [numSteps]
        try GuidanceOption.requireGuidable(weights, model: model, checkpoint: checkpoint)
        if let bad = jumpCounts.first(where: { $0 > numSteps }) {
            throw ValidationError("--steps: \(bad) is more than the checkpoint's T = \(numSteps)")
        }
        if jumpCounts.contains(where: { $0 < numSteps }), let skip = Catalog.exercise(8) {
            try implementation.requireExercisesPass([skip])
        }
        let (judge, testAccuracy) = try DigitClassifier.load(from: URL(fileURLWithPath: classifierFile))
        let directory = try data.directory()
        let testSet = try MNIST(split: .test, directory: directory)
        let trainingSet = try MNIST(split: .train, directory: directory)
        let levels = diffusion.configuration.numClasses
        func statistics(_ set: MNIST, _ indices: [Int]) -> FeatureStatistics {
            FeatureStatistics(features: judge.judge(set.batch(indices, levels: levels).images).features)
        }
        let reference = statistics(testSet, Array(0..<testSet.count))
        // Real against real: the distance samples could reach if they were
        // MNIST digits, for as many images as samples (the distance of a few
        // images is biased upwards) and for the whole training set.
        var perDigitImages = [[Int]](repeating: [], count: 10)
        for (index, label) in trainingSet.labels.enumerated() where perDigitImages[Int(label)].count < samplesPerDigit {
            perDigitImages[Int(label)].append(index)
        }
        let floorSameSize = statistics(trainingSet, perDigitImages.flatMap { $0 }).frechetDistance(to: reference)
        let floorFull = statistics(trainingSet, Array(0..<trainingSet.count)).frechetDistance(to: reference)
        let count = 10 * samplesPerDigit
        print(
            String(
                format: """
                    Fréchet distance floor (classifier features, against the %d test images): \
                    %.3f for %d training images, %.3f for all %d
                    """, testSet.count, floorSameSize, count, floorFull, trainingSet.count))

        let labels = (0..<count).map { $0 % 10 }
        var rows: [(w: Float, jumps: Int, quality: SampleQuality, seconds: Double)] = []
        for jumps in jumpCounts {
            for w in weights {
                var rng = RandomGenerator(seed: seed &+ 1)
                let chunks = stride(from: 0, to: count, by: sampleBatch).map { $0..<min($0 + sampleBatch, count) }
                var bar = ProgressBar(
                    total: chunks.count * jumps, label: String(format: "S=%d w=%g", jumps, w))
                var samples: [Int] = []
                let started = Date()
                for (index, chunk) in chunks.enumerated() {
                    let chunkLabels = IntTensor(Array(labels[chunk]))
                    var done = 0
                    let drawn = diffusion.sample(
                        model: model, labels: chunkLabels, steps: jumps, guidance: w, frameStride: numSteps,
                        using: &rng
                    ) { _ in
                        done += 1
                        bar.update(index * jumps + done)
                    }
                    samples += drawn.samples.scalars
                }
                let seconds = Date().timeIntervalSince(started)
                let images = IntTensor(shape: [count, 1, 28, 28], scalars: samples)
                let quality = SampleQuality(samples: images, labels: labels, classifier: judge, reference: reference)
                rows.append((w, jumps, quality, seconds))
                print(
                    String(
                        format: """
                            S = %d, w = %g: conditional accuracy %.1f%% of %d samples, Fréchet distance %.3f \
                            (%.1fx the floor), sampled in %.0f s
                            """, jumps, w, quality.accuracy * 100, count, quality.frechetDistance,
                        quality.frechetDistance / max(floorSameSize, 1e-12), seconds))
                print(
                    "  per digit: "
                        + quality.perDigit.enumerated().map {
                            "\($0.offset): \($0.element.correct)/\($0.element.total)"
                        }
                        .joined(separator: "  "))
            }
        }
        print(String(format: "(classifier: %.2f%% on the test set)", testAccuracy * 100))
        try writeQuality(rows, floors: (floorSameSize, floorFull), samples: count)
    }

    /// Adds `rows` to the folder's quality.csv (see ``QualityTable``) and plots all its rows.
    func writeQuality(
        _ rows: [(w: Float, jumps: Int, quality: SampleQuality, seconds: Double)],
        floors: (sameSize: Double, full: Double), samples: Int
    ) throws {
        let folder = URL(fileURLWithPath: output)
        let checkpointPath = URL(fileURLWithPath: checkpoint).standardizedFileURL.path
        let measured = rows.map {
            QualityMeasurement(
                guidance: $0.w, steps: $0.jumps, samples: samples, accuracy: $0.quality.accuracy,
                frechetDistance: $0.quality.frechetDistance, floorSameSize: floors.sameSize, floorFull: floors.full,
                seconds: $0.seconds, checkpoint: checkpointPath)
        }
        let url = folder.appendingPathComponent("quality.csv")
        let all = QualityTable.merging(measured, into: url)
        try QualityTable.write(all, to: url)
        print(
            "Quality: \(url.path)"
                + (all.count > measured.count ? " (with \(all.count - measured.count) earlier rows)" : ""))
        do {
            let plots = try QualityTable.plot(all, in: folder)
            if !plots.isEmpty { print("Plots:   " + plots.map(\.path).joined(separator: "\n         ")) }
        } catch {
            print("No plots: \(error)")
        }
    }
}
