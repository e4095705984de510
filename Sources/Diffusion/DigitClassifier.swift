import Foundation
import NN
import Tensors

/// A small convolutional classifier of 4-level MNIST digits, used to measure
/// sample quality: the conditional accuracy of a generator is the fraction
/// of its samples for label y that this classifier assigns to y.
///
///     Conv3x3(1, 32) -> SiLU -> AvgPool 2 -> Conv3x3(32, 64) -> SiLU -> AvgPool 2 -> Linear(64 * 7 * 7, 10)
public struct DigitClassifier: ParameterContainer {
    public let numClasses: Int
    public var conv1: Conv2d
    public var conv2: Conv2d
    public var output: Linear

    public init(numClasses: Int = 4, seed: UInt64 = 0) {
        var rng = RandomGenerator(seed: seed)
        self.numClasses = numClasses
        conv1 = Conv2d(1, 32, kernelSize: 3, padding: 1, using: &rng)
        conv2 = Conv2d(32, 64, kernelSize: 3, padding: 1, using: &rng)
        output = Linear(64 * 7 * 7, 10, using: &rng)
    }

    /// Logits over the 10 digits, [B, 10], for images of gray levels [B, 1, 28, 28].
    public func callAsFunction(_ images: IntTensor) -> Tensor {
        precondition(
            images.rank == 4 && images.shape[1] == 1 && images.shape[2] == 28 && images.shape[3] == 28,
            "DigitClassifier: expected images [B, 1, 28, 28], got \(images.shape)")
        let b = images.shape[0]
        let x = images.asFloat.reshaped(b, 28, 28, 1) * (2 / Float(numClasses - 1)) - 1
        let h1 = averagePool2x2(silu(conv1(x)))
        let h2 = averagePool2x2(silu(conv2(h1)))
        return output(h2.reshaped(b, -1))
    }

    /// The predicted digits.
    public func predict(_ images: IntTensor) -> IntTensor { withoutGradient { self(images).argmax(axis: -1) } }

    public mutating func visitParameters(_ body: (String, inout Tensor) -> Void) {
        conv1.visitParameters { body("conv1.\($0)", &$1) }
        conv2.visitParameters { body("conv2.\($0)", &$1) }
        output.visitParameters { body("output.\($0)", &$1) }
    }

    /// Saves the weights (atomically) with the number of gray levels and the test accuracy.
    public func save(to url: URL, testAccuracy: Double) throws {
        try Safetensors.write(
            namedParameters.map { (name: $0.name, value: $0.value) },
            metadata: [
                "format": "d3pm-kit-classifier@1", "num_classes": String(numClasses),
                "test_accuracy": String(testAccuracy),
            ], to: url)
    }

    /// Loads weights saved by ``save(to:testAccuracy:)``.
    public static func load(from url: URL) throws -> (classifier: DigitClassifier, testAccuracy: Double) {
        let (tensors, metadata) = try Safetensors.read(from: url)
        guard metadata["format"] == "d3pm-kit-classifier@1", let k = Int(metadata["num_classes"] ?? "") else {
            throw CheckpointError(file: url, problem: "is not a D3PM Kit classifier")
        }
        var classifier = DigitClassifier(numClasses: k)
        try classifier.load(tensors, from: url)
        return (classifier, Double(metadata["test_accuracy"] ?? "") ?? .nan)
    }
}
