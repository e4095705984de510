import ArgumentParser
import CommandSupport
import Datasets
import Diffusion
import Foundation
import NN
import Tensors

/// Trains the digit classifier that measures sample quality.
struct TrainClassifier: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classifier",
        abstract:
            "Train the digit classifier that `eval --classifier` uses to judge samples (about 98.5% test accuracy in a minute)."
    )

    @Option(parsing: .unconditional, help: "Passes over the training images (3 give about 98.5% test accuracy).")
    var epochs = 3

    @Option(parsing: .unconditional, help: "Images per step.")
    var batchSize = 128

    @Option(parsing: .unconditional, help: "The seed of the weights and the batch order.")
    var seed: UInt64 = 0

    @Option(help: "Where to save the classifier.")
    var output = "output/classifier/classifier.safetensors"

    @OptionGroup var data: DataOptions

    func validate() throws {
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
    }

    func run() throws {
        try OutputFolder.prepare(URL(fileURLWithPath: output).deletingLastPathComponent().path)
        let directory = try data.directory()
        let train = try MNIST(split: .train, directory: directory), test = try MNIST(split: .test, directory: directory)
        var classifier = DigitClassifier(seed: seed)
        var optimizer = AdamW()
        let batches = MiniBatches(count: train.count, batchSize: batchSize, seed: seed)
        let total = epochs * batches.batchesPerEpoch
        var bar = ProgressBar(total: total, label: "classifier")
        for step in 0..<total {
            let epoch = step / batches.batchesPerEpoch
            let (images, labels) = train.batch(
                batches.batch(step % batches.batchesPerEpoch, epoch: epoch), levels: classifier.numClasses)
            let (loss, gradient) = valueWithGradient(at: classifier) { crossEntropy($0(images), targets: labels) }
            optimizer.update(&classifier, along: gradient)
            bar.update(step + 1, detail: String(format: "epoch %d  loss %.4f", epoch + 1, loss.item))
        }
        let accuracy = Self.accuracy(of: classifier, on: test)
        let url = URL(fileURLWithPath: output)
        try classifier.save(to: url, testAccuracy: accuracy)
        print(
            String(format: "Test accuracy: %.2f%% on %d images\nClassifier: %@", accuracy * 100, test.count, url.path))
    }

    /// The fraction of `data` the classifier labels correctly.
    static func accuracy(of classifier: DigitClassifier, on data: MNIST) -> Double {
        var correct = 0
        for start in stride(from: 0, to: data.count, by: 500) {
            let (images, labels) = data.batch(
                Array(start..<min(start + 500, data.count)), levels: classifier.numClasses)
            correct += zip(classifier.predict(images).scalars, labels.scalars).filter { $0 == $1 }.count
        }
        return Double(correct) / Double(data.count)
    }
}
