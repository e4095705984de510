import D3PM
import Foundation
import NN
import Tensors

/// Where a training run stands: enough to resume it exactly.
public struct TrainingProgress: Sendable, Equatable {
    /// Optimisation steps done.
    public var step: Int
    public var seed: UInt64
    public var batchSize: Int
    /// The base learning rate (the schedule's rate at step 0).
    public var learningRate: Float
    public var learningRateSchedule: LearningRateSchedule
    public var configuration: DiffusionConfiguration
    /// The fraction of labels dropped for classifier-free guidance.
    public var labelDropout: Float

    public init(
        step: Int, seed: UInt64, batchSize: Int, learningRate: Float,
        learningRateSchedule: LearningRateSchedule = .constant, configuration: DiffusionConfiguration,
        labelDropout: Float = 0
    ) {
        self.step = step
        self.seed = seed
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.learningRateSchedule = learningRateSchedule
        self.configuration = configuration
        self.labelDropout = labelDropout
    }
}

/// A training checkpoint: the model's weights under their PyTorch names, the
/// optimiser's moments under `optimizer.m.NAME` and `optimizer.v.NAME`, and
/// the run's settings as metadata, in one safetensors file written
/// atomically. PyTorch reads it with `safetensors.torch.load_file`.
public enum TrainingCheckpoint {
    public static let format = "d3pm-kit-checkpoint@1"

    public static func save(model: any X0Model, optimizer: AdamW, progress: TrainingProgress, to url: URL) throws {
        let tensors = model.namedParameters + optimizer.namedParameters.map { ("optimizer.\($0.name)", $0.value) }
        let c = progress.configuration
        let metadata: [String: String] = [
            "format": format, "step": String(progress.step), "seed": String(progress.seed),
            "batch_size": String(progress.batchSize), "learning_rate": String(progress.learningRate),
            "learning_rate_decay_steps": String(progress.learningRateSchedule.decaySteps),
            "optimizer_step": String(optimizer.step), "num_classes": String(c.numClasses),
            "num_steps": String(c.numSteps),
            "beta_start": String(c.betaStart), "beta_end": String(c.betaEnd), "lambda": String(c.lambda),
            "weighting": c.weighting.rawValue, "corruption": c.corruption.rawValue, "schedule": c.schedule.rawValue,
            "model": model.architecture.rawValue, "label_dropout": String(progress.labelDropout),
        ]
        try Safetensors.write(tensors.map { (name: $0.0, value: $0.1) }, metadata: metadata, to: url)
    }

    /// Reads a checkpoint: the model, the optimiser (with `learningRate`
    /// and its other settings as saved) and the progress.
    /// - Throws: ``CheckpointError`` naming the file and the problem.
    public static func load(from url: URL) throws -> (model: any X0Model, optimizer: AdamW, progress: TrainingProgress)
    {
        let (tensors, metadata) = try Safetensors.read(from: url)
        guard metadata["format"] == format else {
            throw CheckpointError(
                file: url,
                problem: "is not a D3PM Kit checkpoint (format \(metadata["format"] ?? "missing"), expected \(format))")
        }
        func value<T: LosslessStringConvertible>(_ key: String) throws -> T {
            guard let text = metadata[key], let value = T(text) else {
                throw CheckpointError(file: url, problem: "has no valid '\(key)' in its metadata")
            }
            return value
        }
        var configuration = DiffusionConfiguration()
        configuration.numClasses = try value("num_classes")
        configuration.numSteps = try value("num_steps")
        configuration.betaStart = try value("beta_start")
        configuration.betaEnd = try value("beta_end")
        configuration.lambda = try value("lambda")
        guard let weighting = LossWeighting(rawValue: metadata["weighting"] ?? "") else {
            throw CheckpointError(file: url, problem: "has an unknown loss weighting '\(metadata["weighting"] ?? "")'")
        }
        configuration.weighting = weighting
        // Checkpoints from before the corruption option are uniform and linear.
        guard let corruption = Corruption(rawValue: metadata["corruption"] ?? "uniform"),
            let schedule = NoiseSchedule(rawValue: metadata["schedule"] ?? "linear")
        else {
            throw CheckpointError(
                file: url,
                problem:
                    "has an unknown corruption '\(metadata["corruption"] ?? "")' or schedule '\(metadata["schedule"] ?? "")'"
            )
        }
        configuration.corruption = corruption
        configuration.schedule = schedule
        // Checkpoints from before the model option name the coordinates only.
        let architectureName = metadata["model"] ?? (metadata["coordinates"] == "true" ? "coords" : "tiny")
        guard let architecture = ModelArchitecture(rawValue: architectureName) else {
            throw CheckpointError(
                file: url,
                problem:
                    "holds an unknown model '\(architectureName)' (known: \(ModelArchitecture.allCases.map(\.rawValue).joined(separator: ", ")))"
            )
        }
        // Checkpoints from before guidance dropped no labels.
        guard let labelDropout = Float(metadata["label_dropout"] ?? "0"), (0..<1).contains(labelDropout) else {
            throw CheckpointError(
                file: url,
                problem: "has an invalid 'label_dropout' '\(metadata["label_dropout"] ?? "")' in its metadata")
        }
        var model = architecture.makeModel(
            numClasses: configuration.numClasses, withNoLabel: labelDropout > 0, seed: 0)
        try model.load(tensors, from: url)
        // Checkpoints from before learning-rate schedules kept the rate constant.
        guard let decaySteps = Int(metadata["learning_rate_decay_steps"] ?? "0"), decaySteps >= 0 else {
            throw CheckpointError(
                file: url,
                problem:
                    "has an invalid 'learning_rate_decay_steps' '\(metadata["learning_rate_decay_steps"] ?? "")' in its metadata"
            )
        }
        let progress = TrainingProgress(
            step: try value("step"), seed: try value("seed"), batchSize: try value("batch_size"),
            learningRate: try value("learning_rate"),
            learningRateSchedule: LearningRateSchedule(decaySteps: decaySteps), configuration: configuration,
            labelDropout: labelDropout)
        var optimizer = AdamW(learningRate: progress.learningRate)
        let moments = tensors.filter { $0.key.hasPrefix("optimizer.") }
        optimizer.restore(
            step: try value("optimizer_step"),
            moments: Dictionary(
                uniqueKeysWithValues: moments.map { (String($0.key.dropFirst("optimizer.".count)), $0.value) }))
        return (model, optimizer, progress)
    }
}
