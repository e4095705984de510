import Foundation
import NN
import Tensors

/// A small convolutional classifier of 4-level MNIST digits, used to measure
/// sample quality: the conditional accuracy of a generator is the fraction
/// of its samples for label y that this classifier assigns to y, and the
/// Fréchet distance compares its penultimate features of samples and of
/// real digits.
///
///     Conv3x3(1, 32) -> SiLU -> AvgPool 2 -> Conv3x3(32, 64) -> SiLU -> AvgPool 2
///       -> Linear(64 * 7 * 7, 128) -> SiLU (the features) -> Linear(128, 10)
public struct DigitClassifier: ParameterContainer {
    public static let format = "d3pm-kit-classifier@2"
    /// The size of the penultimate features.
    public static let featureSize = 128

    public let numClasses: Int
    public var conv1: Conv2d
    public var conv2: Conv2d
    public var hidden: Linear
    public var output: Linear

    public init(numClasses: Int = 4, seed: UInt64 = 0) {
        var rng = RandomGenerator(seed: seed)
        self.numClasses = numClasses
        conv1 = Conv2d(1, 32, kernelSize: 3, padding: 1, using: &rng)
        conv2 = Conv2d(32, 64, kernelSize: 3, padding: 1, using: &rng)
        hidden = Linear(64 * 7 * 7, Self.featureSize, using: &rng)
        output = Linear(Self.featureSize, 10, using: &rng)
    }

    /// The penultimate features, [B, 128], of images of gray levels [B, 1, 28, 28].
    public func features(_ images: IntTensor) -> Tensor {
        precondition(
            images.rank == 4 && images.shape[1] == 1 && images.shape[2] == 28 && images.shape[3] == 28,
            "DigitClassifier: expected images [B, 1, 28, 28], got \(images.shape)")
        let b = images.shape[0]
        let x = images.asFloat.reshaped(b, 28, 28, 1) * (2 / Float(numClasses - 1)) - 1
        let h1 = averagePool2x2(silu(conv1(x)))
        let h2 = averagePool2x2(silu(conv2(h1)))
        return silu(hidden(h2.reshaped(b, -1)))
    }

    /// Logits over the 10 digits, [B, 10], for images of gray levels [B, 1, 28, 28].
    public func callAsFunction(_ images: IntTensor) -> Tensor { output(features(images)) }

    /// The predicted digits.
    public func predict(_ images: IntTensor) -> IntTensor { withoutGradient { self(images).argmax(axis: -1) } }

    public mutating func visitParameters(_ body: (String, inout Tensor) -> Void) {
        conv1.visitParameters { body("conv1.\($0)", &$1) }
        conv2.visitParameters { body("conv2.\($0)", &$1) }
        hidden.visitParameters { body("hidden.\($0)", &$1) }
        output.visitParameters { body("output.\($0)", &$1) }
    }

    /// Saves the weights (atomically) with the number of gray levels and the test accuracy.
    public func save(to url: URL, testAccuracy: Double) throws {
        try Safetensors.write(
            namedParameters.map { (name: $0.name, value: $0.value) },
            metadata: [
                "format": Self.format, "num_classes": String(numClasses),
                "test_accuracy": String(testAccuracy),
            ], to: url)
    }

    /// Loads weights saved by ``save(to:testAccuracy:)``.
    public static func load(from url: URL) throws -> (classifier: DigitClassifier, testAccuracy: Double) {
        let (tensors, metadata) = try Safetensors.read(from: url)
        if metadata["format"] == "d3pm-kit-classifier@1" {
            throw CheckpointError(
                file: url,
                problem:
                    "is a classifier of an earlier kit, without the features the Fréchet distance needs: train a new one with `swift run -c release d3pm classifier`"
            )
        }
        guard metadata["format"] == Self.format, let k = Int(metadata["num_classes"] ?? "") else {
            throw CheckpointError(file: url, problem: "is not a D3PM Kit classifier (format \(Self.format))")
        }
        var classifier = DigitClassifier(numClasses: k)
        try classifier.load(tensors, from: url)
        return (classifier, Double(metadata["test_accuracy"] ?? "") ?? .nan)
    }
}

extension DigitClassifier {
    /// The predicted digits and the penultimate features of `images`
    /// [N, 1, 28, 28], computed `batchSize` images at a time.
    public func judge(_ images: IntTensor, batchSize: Int = 500) -> (predicted: [Int], features: Tensor) {
        let n = images.shape[0], pixels = images.count / max(n, 1)
        var predicted: [Int] = [], features: [Tensor] = []
        withoutGradient {
            for start in stride(from: 0, to: n, by: batchSize) {
                let end = min(start + batchSize, n)
                let batch = IntTensor(
                    shape: [end - start] + images.shape.dropFirst(),
                    scalars: Array(images.scalars[(start * pixels)..<(end * pixels)]))
                let f = self.features(batch)
                features.append(f)
                predicted += output(f).argmax(axis: -1).scalars
            }
        }
        return (predicted, concat(features, axis: 0))
    }
}

/// What `d3pm eval --classifier` measures of a set of samples against real
/// test digits.
public struct SampleQuality: Sendable {
    /// The fraction of samples the classifier assigns to their label.
    public var accuracy: Double
    /// Per digit: how many of its samples were classified as it, and how many there were.
    public var perDigit: [(correct: Int, total: Int)]
    /// The Fréchet distance between the samples' features and the test set's.
    public var frechetDistance: Double

    /// Judges `samples` [N, 1, 28, 28] drawn for `labels` against `reference`, the test set's statistics.
    public init(samples: IntTensor, labels: [Int], classifier: DigitClassifier, reference: FeatureStatistics) {
        let (predicted, features) = classifier.judge(samples)
        var perDigit = [(correct: Int, total: Int)](repeating: (0, 0), count: 10)
        for (p, y) in zip(predicted, labels) {
            perDigit[y].total += 1
            if p == y { perDigit[y].correct += 1 }
        }
        self.perDigit = perDigit
        accuracy = Double(perDigit.reduce(0) { $0 + $1.correct }) / Double(max(labels.count, 1))
        frechetDistance = FeatureStatistics(features: features).frechetDistance(to: reference)
    }
}
