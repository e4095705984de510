import D3PM
import Datasets
import Foundation
import NN
import Tensors

/// What defines a training run: two runs with the same settings, on the same
/// images, take the same steps bit for bit, and a checkpoint resumes only
/// under the settings it was saved with.
public struct TrainingSettings: Sendable, Equatable {
    public var model: ModelArchitecture
    public var seed: UInt64
    public var batchSize: Int
    /// The base learning rate, which `learningRateSchedule` scales step by step.
    public var learningRate: Float
    public var learningRateSchedule: LearningRateSchedule
    public var configuration: DiffusionConfiguration
    /// The fraction of labels dropped for classifier-free guidance (0: none,
    /// and the model has no "no label" embedding).
    public var labelDropout: Float

    public init(
        model: ModelArchitecture, seed: UInt64, batchSize: Int, learningRate: Float,
        learningRateSchedule: LearningRateSchedule = .constant, configuration: DiffusionConfiguration,
        labelDropout: Float = 0
    ) {
        precondition(
            (0..<1).contains(labelDropout), "TrainingSettings: label dropout must lie in [0, 1), got \(labelDropout)")
        self.model = model
        self.seed = seed
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.learningRateSchedule = learningRateSchedule
        self.configuration = configuration
        self.labelDropout = labelDropout
    }

    /// Each setting that differs, named with its value here and in `other`:
    /// `"batch size: 64 (checkpoint: 128)"`.
    public func differences(from other: TrainingSettings) -> [String] {
        let mine = described, theirs = other.described
        return zip(mine, theirs).filter { $0.value != $1.value }.map {
            "\($0.name): \($0.value) (checkpoint: \($1.value))"
        }
    }

    private var described: [(name: String, value: String)] {
        let c = configuration
        return [
            ("model", model.rawValue), ("seed", "\(seed)"), ("batch size", "\(batchSize)"),
            ("learning rate", "\(learningRate)"),
            ("learning rate schedule", "\(learningRateSchedule)"), ("label dropout", "\(labelDropout)"),
            ("transition", c.corruption.rawValue), ("schedule", c.schedule.rawValue), ("beta start", "\(c.betaStart)"),
            ("beta end", "\(c.betaEnd)"), ("lambda", "\(c.lambda)"), ("weighting", c.weighting.rawValue),
            ("classes", "\(c.numClasses)"), ("steps T", "\(c.numSteps)"),
        ]
    }
}

/// The images a run trains on.
public protocol TrainingImages {
    var count: Int { get }
    /// The images at `indices` quantised to `levels` gray levels, and their labels.
    func batch(_ indices: [Int], levels: Int) -> (images: IntTensor, labels: IntTensor)
}

extension MNIST: TrainingImages {}

/// One step of a run, as the loss log records it.
public struct StepRecord: Sendable {
    public var step: Int
    public var epoch: Int
    public var loss: Float
    public var vb: Float
    public var ce: Float
    public var gradientNorm: Float
    public var imagesPerSecond: Double
}

/// A training run in a folder: the batch order and each step's seed, the
/// guard against a loss that is not finite, the loss log (`loss.csv`) and the
/// checkpoints (`checkpoint.safetensors`, written atomically every
/// ``checkpointEvery`` steps, every ``checkpointInterval`` seconds, at the end
/// and when stopped).
public struct TrainingRun {
    public let folder: URL
    public let settings: TrainingSettings
    public private(set) var trainer: Trainer
    /// Steps done so far.
    public var step: Int { trainer.optimizer.step }
    public var checkpointEvery = 100
    public var checkpointInterval: TimeInterval = 60

    public var checkpointURL: URL { folder.appendingPathComponent("checkpoint.safetensors") }
    public var logURL: URL { folder.appendingPathComponent("loss.csv") }

    /// Why a run could not start or go on.
    public enum Failure: Error, CustomStringConvertible {
        case checkpointExists(URL)
        case noCheckpoint(URL)
        case settingsDiffer(URL, [String])
        case lossNotFinite(step: Int, loss: Float)

        public var description: String {
            switch self {
            case .checkpointExists(let url):
                "\(url.deletingLastPathComponent().path) already holds a checkpoint: continue it with --resume, or choose another --output"
            case .noCheckpoint(let url): "there is no checkpoint at \(url.path) to resume"
            case .settingsDiffer(let url, let differences):
                "\(url.path) was trained with other settings; give the same ones to continue it:\n  "
                    + differences.joined(separator: "\n  ")
            case .lossNotFinite(let step, let loss): "the loss became \(loss) at step \(step)"
            }
        }
    }

    /// How ``run(totalSteps:images:progress:shouldStop:)`` ended.
    public enum Ending: Equatable {
        case finished
        case stopped
    }

    /// A new run in `folder`, which must not hold a checkpoint yet.
    public init(starting settings: TrainingSettings, diffusion: DiscreteDiffusion, in folder: URL) throws {
        self.folder = folder
        self.settings = settings
        trainer = Trainer(
            model: settings.model.makeModel(
                numClasses: settings.configuration.numClasses, withNoLabel: settings.labelDropout > 0,
                seed: settings.seed),
            optimizer: AdamW(learningRate: settings.learningRate), diffusion: diffusion,
            labelDropout: settings.labelDropout)
        guard !FileManager.default.fileExists(atPath: checkpointURL.path) else {
            throw Failure.checkpointExists(checkpointURL)
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try LossLog.write([LossLog.header], to: logURL)
    }

    /// The run whose checkpoint is in `folder`, refused if it was saved with other settings.
    public init(resuming settings: TrainingSettings, diffusion: DiscreteDiffusion, in folder: URL) throws {
        self.folder = folder
        self.settings = settings
        let url = folder.appendingPathComponent("checkpoint.safetensors")
        guard FileManager.default.fileExists(atPath: url.path) else { throw Failure.noCheckpoint(url) }
        let saved = try TrainingCheckpoint.load(from: url)
        let savedSettings = TrainingSettings(
            model: saved.model.architecture, seed: saved.progress.seed, batchSize: saved.progress.batchSize,
            learningRate: saved.progress.learningRate, learningRateSchedule: saved.progress.learningRateSchedule,
            configuration: saved.progress.configuration, labelDropout: saved.progress.labelDropout)
        let differences = settings.differences(from: savedSettings)
        guard differences.isEmpty else { throw Failure.settingsDiffer(url, differences) }
        trainer = Trainer(
            model: saved.model, optimizer: saved.optimizer, diffusion: diffusion, labelDropout: settings.labelDropout)
        try LossLog.write(try LossLog.rows(in: logURL, throughStep: saved.progress.step), to: logURL)
    }

    /// Saves the checkpoint now (atomically).
    public func saveCheckpoint() throws {
        let progress = TrainingProgress(
            step: step, seed: settings.seed, batchSize: settings.batchSize,
            learningRate: settings.learningRate, learningRateSchedule: settings.learningRateSchedule,
            configuration: settings.configuration, labelDropout: settings.labelDropout)
        try TrainingCheckpoint.save(
            model: trainer.model, optimizer: trainer.optimizer, progress: progress, to: checkpointURL)
    }

    /// Trains until step `totalSteps` or until `shouldStop` says so (it is
    /// asked after every step); saves a checkpoint on the way and at the end.
    public mutating func run(
        totalSteps: Int, images: some TrainingImages, progress: (StepRecord) -> Void = { _ in },
        shouldStop: () -> Bool = { false }
    ) throws -> Ending {
        let batches = MiniBatches(count: images.count, batchSize: settings.batchSize, seed: settings.seed)
        let log = try FileHandle(forWritingTo: logURL)
        defer { try? log.close() }
        try log.seekToEnd()
        var order: (epoch: Int, indices: [Int]) = (-1, [])
        var imagesSeen = 0
        let started = Date()
        var lastCheckpoint = Date()
        while step < totalSteps {
            let step = self.step, epoch = step / batches.batchesPerEpoch
            if order.epoch != epoch { order = (epoch, batches.order(epoch: epoch)) }
            let indices = batches.batch(step % batches.batchesPerEpoch, epoch: epoch, order: order.indices)
            let (x0, y) = images.batch(indices, levels: settings.configuration.numClasses)
            trainer.optimizer.learningRate = settings.learningRateSchedule.rate(
                base: settings.learningRate, afterSteps: step)
            let report = trainer.step(x0: x0, y: y, seed: Self.stepSeed(settings.seed, step: step))
            guard report.loss.isFinite else { throw Failure.lossNotFinite(step: step + 1, loss: report.loss) }
            imagesSeen += indices.count
            let record = StepRecord(
                step: step + 1, epoch: epoch + 1, loss: report.loss, vb: report.vb, ce: report.ce,
                gradientNorm: report.gradientNorm,
                imagesPerSecond: Double(imagesSeen) / max(Date().timeIntervalSince(started), 1e-9))
            log.write(Data((LossLog.row(record) + "\n").utf8))
            progress(record)
            let stopping = shouldStop()
            if (step + 1) % checkpointEvery == 0 || step + 1 == totalSteps || stopping
                || Date().timeIntervalSince(lastCheckpoint) >= checkpointInterval
            {
                try saveCheckpoint()
                lastCheckpoint = Date()
            }
            if stopping && step + 1 < totalSteps { return .stopped }
        }
        return .finished
    }

    /// The seed of step `step`'s time steps and noise.
    static func stepSeed(_ seed: UInt64, step: Int) -> UInt64 { seed &* 0x2545_F491_4F6C_DD1D &+ UInt64(step) }
}

/// The loss log: a CSV file with one row per step.
public enum LossLog {
    public static let header = "step,epoch,loss,vb,ce,gradient_norm,images_per_second"

    static func row(_ r: StepRecord) -> String {
        String(
            format: "%d,%d,%.6f,%.6f,%.6f,%.6f,%.1f", r.step, r.epoch, r.loss, r.vb, r.ce, r.gradientNorm,
            r.imagesPerSecond)
    }

    /// The header and the rows up to `step` (a resumed run drops the rows after its checkpoint).
    public static func rows(in url: URL, throughStep step: Int) throws -> [String] {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [header] }
        let lines = text.split(separator: "\n").map(String.init)
        return [header] + lines.dropFirst().filter { line in (Int(line.prefix { $0 != "," }) ?? Int.max) <= step }
    }

    static func write(_ rows: [String], to url: URL) throws {
        try Data((rows.joined(separator: "\n") + "\n").utf8).write(to: url, options: .atomic)
    }
}
