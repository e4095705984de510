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

/// The `--learning-rate-decay` choices.
enum LearningRateDecay: String, ExpressibleByArgument, CaseIterable {
    case constant
    case cosine
}

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

    @Option(parsing: .unconditional, help: "Passes over the training images.")
    var epochs = 2

    @Option(parsing: .unconditional, help: "Stop after this many steps in all (default: the epochs' worth).")
    var maxSteps: Int?

    @Option(parsing: .unconditional, help: "Images per step.")
    var batchSize = 128

    @Option(parsing: .unconditional, help: "AdamW's learning rate (at the first step, when it decays).")
    var learningRate: Float = 1e-3

    @Option(
        help:
            "How the learning rate moves: constant, or cosine (down to zero at the last of the --epochs' steps); default cosine for unet, constant for tiny and coords."
    )
    var learningRateDecay: LearningRateDecay?

    @Option(parsing: .unconditional, help: "The seed of the initial weights, the batch order, t and the noise.")
    var seed: UInt64 = 0

    @Option(help: "The folder for the checkpoint, the loss log and the loss curve.")
    var output = "output/train"

    @Option(parsing: .unconditional, help: "Steps between checkpoints.")
    var checkpointEvery = 100

    @Flag(help: "Continue the run whose checkpoint is in the output folder.")
    var resume = false

    @OptionGroup var data: DataOptions

    @Option(parsing: .unconditional, help: "Train on the first N training images only (quick experiments).")
    var images: Int?

    @Option(help: "Where lambda goes: practical (lambda vb + ce) or paper (vb + lambda ce).")
    var weighting: LossWeighting = .practical

    @Option(parsing: .unconditional, help: "The hybrid loss weight lambda.")
    var lambda: Float = D3PMConstants.hybridLambda

    @Option(help: "The corruption: uniform (the practical), absorbing ([MASK], exercise 6) or gaussian (exercise 7).")
    var transition: Corruption = .uniform

    @Option(help: "The noise schedule: linear (1e-3 to 0.1), cosine, or inverse (1 / (T - t + 1), for absorbing).")
    var schedule: NoiseSchedule = .linear

    @Option(parsing: .unconditional, help: "The first beta of the linear schedule (default 1e-3; 0.02 for gaussian).")
    var betaStart: Float?

    @Option(
        parsing: .unconditional,
        help:
            "The last beta of the linear schedule (default 0.1; 1 for gaussian, whose small steps reach the uniform prior only then)."
    )
    var betaEnd: Float?

    @Option(
        help:
            "tiny (the practical's TinyX0Model), coords (the same with row and column input channels) or unet (three levels down to 7 x 7, self-attention, coordinates, the label at every block)."
    )
    var model: ModelArchitecture = .tiny

    @Option(
        parsing: .unconditional,
        help:
            "The fraction of labels replaced by 'no label', for classifier-free guidance (`sample --guidance`); default 0.1 for unet, 0 for tiny and coords."
    )
    var labelDropout: Float?

    func validate() throws {
        if let labelDropout, !(labelDropout >= 0 && labelDropout < 1) {
            throw ValidationError("--label-dropout must lie in [0, 1), got \(labelDropout)")
        }
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
        guard learningRate > 0, learningRate.isFinite else {
            throw ValidationError("--learning-rate must be a positive number, got \(learningRate)")
        }
        guard checkpointEvery >= 1 else {
            throw ValidationError("--checkpoint-every must be at least 1, got \(checkpointEvery)")
        }
        if let maxSteps, maxSteps < 1 { throw ValidationError("--max-steps must be at least 1, got \(maxSteps)") }
        if let images, images < 1 { throw ValidationError("--images must be at least 1, got \(images)") }
        guard lambda >= 0, lambda.isFinite else {
            throw ValidationError("--lambda must be a non-negative number, got \(lambda)")
        }
        for (name, beta) in [("--beta-start", betaStart), ("--beta-end", betaEnd)] {
            if let beta, !(beta > 0 && beta <= 10) { throw ValidationError("\(name) must lie in (0, 10], got \(beta)") }
        }
    }

    func run() throws {
        try OutputFolder.prepare(output)
        try implementation.requireExercisesPass(transition.requiredExercises)
        let folder = URL(fileURLWithPath: output)
        let trainingSet = try MNIST(split: .train, directory: try data.directory())
        let count = min(images ?? trainingSet.count, trainingSet.count)
        let batchesPerEpoch = (count + batchSize - 1) / batchSize
        let totalSteps = min(epochs * batchesPerEpoch, maxSteps ?? Int.max)

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
        // The decay spans the epochs asked for, not --max-steps: a run cut short by
        // --max-steps continues on the same schedule with --resume.
        let decays = learningRateDecay.map { $0 == .cosine } ?? model.decaysLearningRateByDefault
        let settings = TrainingSettings(
            model: model, seed: seed, batchSize: batchSize, learningRate: learningRate,
            learningRateSchedule: decays ? .cosine(steps: epochs * batchesPerEpoch) : .constant,
            configuration: configuration, labelDropout: labelDropout ?? model.defaultLabelDropout)
        var run: TrainingRun
        do {
            run =
                resume
                ? try TrainingRun(resuming: settings, diffusion: diffusion, in: folder)
                : try TrainingRun(starting: settings, diffusion: diffusion, in: folder)
        } catch let failure as TrainingRun.Failure {
            throw CommandFailure("\(resume ? "--resume: " : "")\(failure)")
        }
        run.checkpointEvery = checkpointEvery
        let images = Subset(images: trainingSet, count: count)
        if resume { print("Resuming \(run.checkpointURL.path) at step \(run.step) of \(totalSteps)") }
        print(
            "Training on \(count) images, \(totalSteps) steps of \(batchSize) (\(implementation.owner), \(run.trainer.model.parameterCount) parameters, learning rate \(learningRate) \(settings.learningRateSchedule))"
        )

        StopRequest.install()
        var bar = ProgressBar(total: totalSteps, label: "train", startingAt: run.step)
        let ending: TrainingRun.Ending
        do {
            ending = try run.run(
                totalSteps: totalSteps, images: images,
                progress: { record in
                    bar.update(
                        record.step,
                        detail: String(
                            format: "epoch %d  loss %.4f  vb %.4f  ce %.4f  %.0f img/s",
                            record.epoch, record.loss, record.vb, record.ce, record.imagesPerSecond))
                }, shouldStop: { StopRequest.requested })
        } catch TrainingRun.Failure.lossNotFinite(let step, let loss) {
            throw CommandFailure(
                implementation.implementation == .student
                    ? "the loss became \(loss) at step \(step): check your hybridLoss and qPosteriorLogits (eps inside every log?)"
                    : "the loss became \(loss) at step \(step) with the reference solutions: the settings (a learning rate of \(learningRate)?) make training diverge"
            )
        }
        print("Checkpoint: \(run.checkpointURL.path)\nLoss log:   \(run.logURL.path)")
        drawLossCurve(logURL: run.logURL, to: folder.appendingPathComponent("loss-curve.png"))
        if ending == .stopped {
            let arguments = CommandLine.arguments.dropFirst().filter { $0 != "--resume" }
            print(
                "Stopped at step \(run.step) of \(totalSteps); continue with:\n  swift run -c release d3pm \(arguments.joined(separator: " ")) --resume"
            )
            throw ExitCode(130)
        }
    }

    func drawLossCurve(logURL: URL, to url: URL) {
        do {
            let rows = try LossLog.rows(in: logURL, throughStep: Int.max).dropFirst().map {
                $0.split(separator: ",").compactMap { Double($0) }
            }
            guard rows.count >= 2 else { return }
            let steps = rows.map { $0[0] }
            let curve = try FigureRenderer().lines(
                [
                    LineSeries("loss", x: steps, y: rows.map { $0[2] }),
                    LineSeries("cross-entropy", x: steps, y: rows.map { $0[4] }),
                    LineSeries("vb (KL)", x: steps, y: rows.map { $0[3] }),
                ],
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
                throw CommandFailure(
                    "cannot find the kit's Data/mnist from \(FileManager.default.currentDirectoryPath): run from the kit's folder or pass --data-dir"
                )
            }
            return shipped
        case .fashion:
            guard FileManager.default.fileExists(atPath: Self.fashionDirectory) else {
                throw CommandFailure(
                    "Fashion-MNIST is not installed: `sudo apt-get install dataset-fashion-mnist` (Debian/Ubuntu), or pass --data-dir with its four IDX files"
                )
            }
            return URL(fileURLWithPath: Self.fashionDirectory)
        }
    }
}

/// The first `count` images of a set.
struct Subset: TrainingImages {
    let images: MNIST
    let count: Int

    func batch(_ indices: [Int], levels: Int) -> (images: IntTensor, labels: IntTensor) {
        images.batch(indices, levels: levels)
    }
}

/// Ctrl-C (SIGINT) or SIGTERM asks the run to stop after the current step; a
/// second one ends the process at once.
enum StopRequest {
    nonisolated(unsafe) static var requested = false

    static func install() {
        let handler: @convention(c) (Int32) -> Void = { signal in
            if StopRequest.requested { _exit(128 + signal) }
            StopRequest.requested = true
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
    }
}
