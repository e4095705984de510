import Foundation
import Tensors

/// The MNIST handwritten digits, read from the four IDX files.
///
/// The kit ships them in `Data/mnist` with their `SHA256SUMS`; loading checks
/// every file against its sum when the sums file is there, and checks that
/// the images and labels agree, so a corrupt, truncated or mismatched file
/// stops with an error that names it.
public struct MNIST: Sendable {
    /// Which part of the data set.
    public enum Split: String, Sendable, CaseIterable {
        case train, test

        var files: (images: String, labels: String) {
            switch self {
            case .train: ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
            case .test: ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
            }
        }
    }

    /// Gray levels 0...255, image after image, row by row.
    public let pixels: [UInt8]
    /// The digit of each image.
    public let labels: [UInt8]
    public let height: Int
    public let width: Int

    /// The number of images.
    public var count: Int { labels.count }

    /// The folder of the shipped copy, found from the current directory upwards.
    public static func defaultDirectory() -> URL? {
        var folder = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        for _ in 0..<6 {
            let candidate = folder.appendingPathComponent("Data/mnist")
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("SHA256SUMS").path) {
                return candidate
            }
            folder.deleteLastPathComponent()
        }
        return nil
    }

    /// Loads one split from `directory`.
    /// - Throws: ``DataFileError`` naming the file at fault.
    public init(split: Split, directory: URL) throws {
        let (imageFile, labelFile) = split.files
        let imageURL = directory.appendingPathComponent(imageFile),
            labelURL = directory.appendingPathComponent(labelFile)
        try Self.verifyChecksums(of: [imageURL, labelURL], in: directory)
        let images = try IDXFile.read(imageURL)
        let labels = try IDXFile.read(labelURL)
        guard images.shape.count == 3 else {
            throw DataFileError(
                file: imageFile, problem: "holds a tensor of shape \(images.shape), not images [N, rows, columns]")
        }
        guard labels.shape.count == 1 else {
            throw DataFileError(file: labelFile, problem: "holds a tensor of shape \(labels.shape), not labels [N]")
        }
        guard images.shape[0] == labels.shape[0] else {
            throw DataFileError(
                file: labelFile,
                problem: "holds \(labels.shape[0]) labels for the \(images.shape[0]) images of \(imageFile)")
        }
        if let bad = labels.bytes.first(where: { $0 > 9 }) {
            throw DataFileError(file: labelFile, problem: "holds label \(bad), outside 0...9")
        }
        pixels = images.bytes
        self.labels = labels.bytes
        height = images.shape[1]
        width = images.shape[2]
    }

    /// Checks each file against `SHA256SUMS` in `directory`, when that file exists.
    static func verifyChecksums(of files: [URL], in directory: URL) throws {
        let sumsURL = directory.appendingPathComponent("SHA256SUMS")
        guard let text = try? String(contentsOf: sumsURL, encoding: .utf8) else { return }
        var expected: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            if parts.count == 2 { expected[String(parts[1].drop { $0 == "*" })] = String(parts[0]).lowercased() }
        }
        for file in files {
            guard let sum = expected[file.lastPathComponent] else { continue }
            guard let data = FileManager.default.contents(atPath: file.path) else {
                throw DataFileError(file: file.path, problem: "does not exist")
            }
            let actual = SHA256.hexDigest([UInt8](data))
            guard actual == sum else {
                throw DataFileError(
                    file: file.lastPathComponent,
                    problem:
                        "does not match SHA256SUMS (expected \(sum.prefix(16))..., found \(actual.prefix(16))...): corrupt or replaced"
                )
            }
        }
    }

    /// The gray level p in 0...255 quantised to round(p / 255 (K - 1)), in 0..<K.
    public static func quantize(_ p: UInt8, levels: Int) -> Int {
        min(max(Int((Double(p) / 255 * Double(levels - 1)).rounded()), 0), levels - 1)
    }

    /// Images `indices` quantised to `levels` gray levels, shape [B, 1, H, W],
    /// and their labels [B].
    public func batch(_ indices: [Int], levels: Int) -> (images: IntTensor, labels: IntTensor) {
        let table = (0..<256).map { Self.quantize(UInt8($0), levels: levels) }
        let size = height * width
        var values = [Int](repeating: 0, count: indices.count * size)
        for (row, index) in indices.enumerated() {
            precondition(index >= 0 && index < count, "MNIST.batch: index \(index) is out of range for \(count) images")
            for p in 0..<size { values[row * size + p] = table[Int(pixels[index * size + p])] }
        }
        return (
            IntTensor(shape: [indices.count, 1, height, width], scalars: values),
            IntTensor(indices.map { Int(labels[$0]) })
        )
    }

    /// How many images carry each label.
    public var labelCounts: [Int] {
        var counts = [Int](repeating: 0, count: 10)
        for label in labels { counts[Int(label)] += 1 }
        return counts
    }
}

/// Seeded, shuffled mini-batches: epoch e visits the images in an order fixed
/// by (seed, e), so a resumed run sees the same batches as an unbroken one.
public struct MiniBatches: Sendable {
    public let count: Int
    public let batchSize: Int
    public let seed: UInt64

    public init(count: Int, batchSize: Int, seed: UInt64) {
        precondition(batchSize > 0, "MiniBatches: batch size must be positive, got \(batchSize)")
        self.count = count
        self.batchSize = batchSize
        self.seed = seed
    }

    /// Batches per epoch (the last one may be smaller).
    public var batchesPerEpoch: Int { (count + batchSize - 1) / batchSize }

    /// The image indices of epoch `epoch`, in order.
    public func order(epoch: Int) -> [Int] {
        var rng = RandomGenerator(seed: seed &* 0x9E37_79B9 &+ UInt64(epoch))
        var indices = Array(0..<count)
        for i in stride(from: count - 1, to: 0, by: -1) {
            indices.swapAt(i, rng.nextInt(in: 0..<(i + 1)))
        }
        return indices
    }

    /// The indices of batch `index` of epoch `epoch`.
    public func batch(_ index: Int, epoch: Int, order: [Int]? = nil) -> [Int] {
        let indices = order ?? self.order(epoch: epoch)
        let start = index * batchSize
        return Array(indices[start..<min(start + batchSize, count)])
    }
}
