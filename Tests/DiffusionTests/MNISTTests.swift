import Datasets
import Foundation
import Testing

@Suite("MNIST")
struct MNISTTests {
    static let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("Data/mnist")
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("d3pm-mnist-\(UUID().uuidString)")

    @Test func shippedCopyHasThePublishedLabelCounts() throws {
        let train = try MNIST(split: .train, directory: Self.shipped)
        #expect(train.count == 60_000 && train.height == 28 && train.width == 28)
        #expect(train.labelCounts == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
        let test = try MNIST(split: .test, directory: Self.shipped)
        #expect(test.labelCounts == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
    }

    @Test func quantisationRoundsToFourLevels() {
        #expect(
            [0, 42, 43, 127, 128, 212, 213, 255].map { MNIST.quantize(UInt8($0), levels: 4) } == [
                0, 0, 1, 1, 2, 2, 3, 3,
            ])
    }

    @Test func batchesAreQuantisedImagesWithTheirLabels() throws {
        let test = try MNIST(split: .test, directory: Self.shipped)
        let (images, labels) = test.batch([0, 1], levels: 4)
        #expect(images.shape == [2, 1, 28, 28] && labels.scalars == [7, 2])
        #expect(Set(images.scalars).isSubset(of: [0, 1, 2, 3]) && images.scalars.contains(3))
    }

    @Test func miniBatchesAreSeededPermutations() {
        let batches = MiniBatches(count: 10, batchSize: 4, seed: 3)
        #expect(batches.batchesPerEpoch == 3)
        #expect(batches.order(epoch: 0).sorted() == Array(0..<10))
        #expect(batches.order(epoch: 0) == MiniBatches(count: 10, batchSize: 4, seed: 3).order(epoch: 0))
        #expect(batches.order(epoch: 0) != batches.order(epoch: 1))
        #expect(batches.batch(2, epoch: 0).count == 2)
    }

    /// A copy of the test split whose files can be damaged.
    func copyOfTestSplit() throws -> URL {
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        for name in ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
            try FileManager.default.copyItem(
                at: Self.shipped.appendingPathComponent(name), to: scratch.appendingPathComponent(name))
        }
        return scratch
    }

    @Test func truncatedFileIsNamedInTheError() throws {
        let folder = try copyOfTestSplit()
        let file = folder.appendingPathComponent("t10k-images-idx3-ubyte.gz")
        let bytes = try Data(contentsOf: file)
        try bytes.prefix(bytes.count / 2).write(to: file)
        #expect { try MNIST(split: .test, directory: folder) } throws: { error in
            let text = "\(error)"
            return text.contains("t10k-images-idx3-ubyte.gz")
                && (text.contains("truncated") || text.contains("corrupt"))
        }
        try? FileManager.default.removeItem(at: scratch)
    }

    @Test func checksumMismatchIsNamedInTheError() throws {
        let folder = try copyOfTestSplit()
        try FileManager.default.copyItem(
            at: Self.shipped.appendingPathComponent("SHA256SUMS"), to: folder.appendingPathComponent("SHA256SUMS"))
        let file = folder.appendingPathComponent("t10k-labels-idx1-ubyte.gz")
        var bytes = [UInt8](try Data(contentsOf: file))
        bytes[bytes.count / 2] ^= 0xFF
        try Data(bytes).write(to: file)
        #expect { try MNIST(split: .test, directory: folder) } throws: { error in
            "\(error)".contains("t10k-labels-idx1-ubyte.gz") && "\(error)".contains("SHA256SUMS")
        }
        try? FileManager.default.removeItem(at: scratch)
    }

    @Test func mismatchedImagesAndLabelsAreNamed() throws {
        let folder = try copyOfTestSplit()
        // Labels of the training split (60,000) beside the test images (10,000).
        try FileManager.default.removeItem(at: folder.appendingPathComponent("t10k-labels-idx1-ubyte.gz"))
        try FileManager.default.copyItem(
            at: Self.shipped.appendingPathComponent("train-labels-idx1-ubyte.gz"),
            to: folder.appendingPathComponent("t10k-labels-idx1-ubyte.gz"))
        #expect { try MNIST(split: .test, directory: folder) } throws: { error in
            "\(error)".contains("60000 labels for the 10000 images")
        }
        try Data([0x1F, 0x8B, 0, 1, 2]).write(to: folder.appendingPathComponent("t10k-images-idx3-ubyte.gz"))
        #expect(throws: DataFileError.self) { try MNIST(split: .test, directory: folder) }
        try? FileManager.default.removeItem(at: scratch)
    }

    @Test func sha256MatchesKnownDigests() {
        #expect(SHA256.hexDigest([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            SHA256.hexDigest(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
