import ArgumentParser
import Checks
import CommandSupport
import D3PM
import Datasets
import Diffusion
import Foundation
import NN
import Plotting
import Tensors


/// Trains an x0-predicting model on 4-level MNIST.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a D3PM model on MNIST quantised to 4 gray levels.",
        discussion: """
            Writes into the output folder: checkpoint.safetensors (every --checkpoint-every \
            steps and at the end, atomically), loss.csv (one row per step) and loss-curve.png. \
            A run stopped mid-way continues with --resume.
            """
    )

    @OptionGroup var implementation: ImplementationOptions

    @Option(help: "Passes over the training images.")
    var epochs = 2

    @Option(help: "Stop after this many steps in all (default: the epochs' worth).")
    var maxSteps: Int?

    @Option(help: "Images per step.")
    var batchSize = 128

    @Option(help: "AdamW's learning rate.")
    var learningRate: Float = 1e-3

    @Option(help: "The seed of the initial weights, the batch order, t and the noise.")
    var seed: UInt64 = 0

    @Option(help: "The folder for the checkpoint, the loss log and the loss curve.")
    var output = "output/train"

    @Option(help: "Steps between checkpoints.")
    var checkpointEvery = 100

    @Flag(help: "Continue the run whose checkpoint is in the output folder.")
    var resume = false

    @OptionGroup var data: DataOptions

    @Option(help: "Train on the first N training images only (quick experiments).")
    var images: Int?

    @Option(help: "Where lambda goes: practical (lambda vb + ce) or paper (vb + lambda ce).")
    var weighting: LossWeighting = .practical

    @Option(help: "The hybrid loss weight lambda.")
    var lambda: Float = D3PMConstants.hybridLambda

    @Option(help: "The corruption: uniform (the practical), absorbing ([MASK], exercise 6) or gaussian (exercise 7).")
    var transition: Corruption = .uniform

    @Option(help: "The noise schedule: linear (1e-3 to 0.1), cosine, or inverse (1 / (T - t + 1), for absorbing).")
    var schedule: NoiseSchedule = .linear

    @Option(help: "The first beta of the linear schedule (default 1e-3; 0.02 for gaussian).")
    var betaStart: Float?

    @Option(help: "The last beta of the linear schedule (default 0.1; 1 for gaussian, whose small steps reach the uniform prior only then).")
    var betaEnd: Float?

    @Option(help: "tiny (the practical's TinyX0Model), coords (the same with row and column input channels) or unet (three levels down to 7 x 7, self-attention, coordinates, the label at every block).")
    var model: ModelArchitecture = .tiny

    func validate() throws {
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
        guard learningRate > 0, learningRate.isFinite else { throw ValidationError("--learning-rate must be a positive number, got \(learningRate)") }
        guard checkpointEvery >= 1 else { throw ValidationError("--checkpoint-every must be at least 1, got \(checkpointEvery)") }
        if let maxSteps, maxSteps < 1 { throw ValidationError("--max-steps must be at least 1, got \(maxSteps)") }
        if let images, images < 1 { throw ValidationError("--images must be at least 1, got \(images)") }
        guard lambda >= 0, lambda.isFinite else { throw ValidationError("--lambda must be a non-negative number, got \(lambda)") }
        for (name, beta) in [("--beta-start", betaStart), ("--beta-end", betaEnd)] {
            if let beta, !(beta > 0 && beta <= 10) { throw ValidationError("\(name) must lie in (0, 10], got \(beta)") }
        }
    }

    func run() throws {
        try implementation.requireExercisesPass(transition.requiredExercises)
        let folder = URL(fileURLWithPath: output)
        let checkpointURL = folder.appendingPathComponent("checkpoint.safetensors")
        let logURL = folder.appendingPathComponent("loss.csv")

        let trainingSet = try MNIST(split: .train, directory: try data.directory())
        let count = min(images ?? trainingSet.count, trainingSet.count)
        let batches = MiniBatches(count: count, batchSize: batchSize, seed: seed)
        let totalSteps = min(epochs * batches.batchesPerEpoch, maxSteps ?? Int.max)

        var configuration = DiffusionConfiguration()
        configuration.weighting = weighting
        configuration.lambda = lambda
        configuration.corruption = transition
        configuration.schedule = schedule
        // Discretized-Gaussian steps move little: with betas up to 0.1 the chain ends far from
        // its uniform prior (0.9 bits/dim of prior term measured); 0.02 to 1 reaches it.
        configuration.betaStart = betaStart ?? (transition == .gaussian ? 0.02 : 1e-3)
        configuration.betaEnd = betaEnd ?? (transition == .gaussian ? 1 : 0.1)
        let diffusion = DiscreteDiffusion(exercises: implementation.exercises, configuration: configuration)
        var trainer: Trainer
        var log: [String]
        if resume {
            guard FileManager.default.fileExists(atPath: checkpointURL.path) else {
                throw CommandFailure("--resume: there is no checkpoint at \(checkpointURL.path)")
            }
            let saved = try TrainingCheckpoint.load(from: checkpointURL)
            guard saved.progress.seed == seed, saved.progress.batchSize == batchSize, saved.progress.configuration == configuration else {
                throw CommandFailure("--resume: \(checkpointURL.path) was trained with seed \(saved.progress.seed), batch size \(saved.progress.batchSize) and \(saved.progress.configuration); give the same settings to continue it")
            }
            trainer = Trainer(model: saved.model, optimizer: saved.optimizer, diffusion: diffusion)
            log = try CSVLog.rows(in: logURL, throughStep: saved.progress.step)
            print("Resuming \(checkpointURL.path) at step \(saved.progress.step) of \(totalSteps)")
        } else {
            guard !FileManager.default.fileExists(atPath: checkpointURL.path) else {
                throw CommandFailure("\(folder.path) already holds a checkpoint: continue it with --resume, or choose another --output")
            }
            trainer = Trainer(model: model.makeModel(seed: seed), optimizer: AdamW(learningRate: learningRate), diffusion: diffusion)
            log = [CSVLog.header]
        }
        let firstStep = trainer.optimizer.step
        print("Training on \(count) images, \(totalSteps) steps of \(batchSize) (\(implementation.implementation == .student ? "your exercises" : "the reference solutions"), \(trainer.model.parameterCount) parameters)")

        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try CSVLog.write(log, to: logURL)
        let logHandle = try FileHandle(forWritingTo: logURL)
        try logHandle.seekToEnd()
        defer { try? logHandle.close() }

        var bar = ProgressBar(total: totalSteps, label: "train", startingAt: firstStep)
        var order: (epoch: Int, indices: [Int]) = (-1, [])
        var imagesSeen = 0
        let started = Date()
        for step in firstStep..<max(totalSteps, firstStep) {
            let epoch = step / batches.batchesPerEpoch
            if order.epoch != epoch { order = (epoch, batches.order(epoch: epoch)) }
            let indices = batches.batch(step % batches.batchesPerEpoch, epoch: epoch, order: order.indices)
            let (x0, y) = trainingSet.batch(indices, levels: configuration.numClasses)
            let report = trainer.step(x0: x0, y: y, seed: seed &* 0x2545_F491_4F6C_DD1D &+ UInt64(step))
            guard report.loss.isFinite else {
                throw CommandFailure(implementation.implementation == .student
                    ? "the loss became \(report.loss) at step \(step + 1): check your hybridLoss and qPosteriorLogits (eps inside every log?)"
                    : "the loss became \(report.loss) at step \(step + 1) with the reference solutions: the settings (a learning rate of \(learningRate)?) make training diverge")
            }
            imagesSeen += indices.count
            let rate = Double(imagesSeen) / max(Date().timeIntervalSince(started), 1e-9)
            let row = String(format: "%d,%d,%.6f,%.6f,%.6f,%.6f,%.1f", step + 1, epoch + 1, report.loss, report.vb, report.ce, report.gradientNorm, rate)
            logHandle.write(Data((row + "\n").utf8))
            bar.update(step + 1, detail: String(format: "epoch %d  loss %.4f  vb %.4f  ce %.4f  %.0f img/s", epoch + 1, report.loss, report.vb, report.ce, rate))
            if (step + 1) % checkpointEvery == 0 || step + 1 == totalSteps {
                let progress = TrainingProgress(step: step + 1, seed: seed, batchSize: batchSize, learningRate: learningRate, configuration: configuration)
                try TrainingCheckpoint.save(model: trainer.model, optimizer: trainer.optimizer, progress: progress, to: checkpointURL)
            }
        }
        print("Checkpoint: \(checkpointURL.path)\nLoss log:   \(logURL.path)")
        drawLossCurve(logURL: logURL, to: folder.appendingPathComponent("loss-curve.png"))
    }

    func drawLossCurve(logURL: URL, to url: URL) {
        do {
            let rows = try CSVLog.rows(in: logURL, throughStep: Int.max).dropFirst().map { $0.split(separator: ",").compactMap { Double($0) } }
            guard rows.count >= 2 else { return }
            let steps = rows.map { $0[0] }
            let curve = try FigureRenderer().lines(
                [LineSeries("loss", x: steps, y: rows.map { $0[2] }), LineSeries("cross-entropy", x: steps, y: rows.map { $0[4] }),
                 LineSeries("vb (KL)", x: steps, y: rows.map { $0[3] })],
                title: "Training loss", xLabel: "step", yLabel: "nats per pixel", logY: true, to: url)
            print("Loss curve: \(curve.path)")
        } catch {
            print("No loss curve: \(error)")
        }
    }
}

/// Which images to use.
enum DatasetName: String, ExpressibleByArgument, CaseIterable {
    /// MNIST digits, shipped in Data/mnist.
    case mnist
    /// Fashion-MNIST (Zalando), from Debian's dataset-fashion-mnist package.
    case fashion
}

/// The data options every command that reads images shares.
struct DataOptions: ParsableArguments {
    @Option(help: "mnist (shipped with the kit) or fashion (Fashion-MNIST: apt-get install dataset-fashion-mnist).")
    var dataset: DatasetName = .mnist

    @Option(help: "A folder of IDX files to use instead (the four MNIST file names).")
    var dataDir: String?

    static let fashionDirectory = "/usr/share/datasets/fashion-mnist"

    /// The folder of the IDX files.
    func directory() throws -> URL {
        if let dataDir { return URL(fileURLWithPath: dataDir) }
        switch dataset {
        case .mnist:
            guard let shipped = MNIST.defaultDirectory() else {
                throw CommandFailure("cannot find the kit's Data/mnist from \(FileManager.default.currentDirectoryPath): run from the kit's folder or pass --data-dir")
            }
            return shipped
        case .fashion:
            guard FileManager.default.fileExists(atPath: Self.fashionDirectory) else {
                throw CommandFailure("Fashion-MNIST is not installed: `sudo apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or pass --data-dir with its four IDX files")
            }
            return URL(fileURLWithPath: Self.fashionDirectory)
        }
    }
}

/// The loss log: a CSV file with one row per step.
enum CSVLog {
    static let header = "step,epoch,loss,vb,ce,gradient_norm,images_per_second"

    /// The header and the rows up to `step` (a resumed run drops the rows after its checkpoint).
    static func rows(in url: URL, throughStep step: Int) throws -> [String] {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [header] }
        let lines = text.split(separator: "\n").map(String.init)
        return [header] + lines.dropFirst().filter { line in (Int(line.prefix { $0 != "," }) ?? Int.max) <= step }
    }

    static func write(_ rows: [String], to url: URL) throws {
        try Data((rows.joined(separator: "\n") + "\n").utf8).write(to: url, options: .atomic)
    }
}
