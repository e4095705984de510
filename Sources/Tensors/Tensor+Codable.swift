import Foundation

/// Tensors cross process boundaries (the grader and the process that runs a
/// student's code) as JSON: `{"shape": [...], "float32": "<base64>"}` for a
/// ``Tensor``, exact to the bit, NaN and infinities included, and
/// `{"shape": [...], "scalars": [...]}` for an ``IntTensor``.
///
/// Decoding validates instead of trapping: data from another process is
/// input, and a shape that does not match its elements, a negative size or an
/// oversized tensor is a `DecodingError` that names what is wrong.
extension Tensor: Codable {
    /// The most elements a decoded tensor may hold (64 Mi).
    public static let maximumDecodedCount = 1 << 26

    private enum CodingKeys: String, CodingKey { case shape, float32 }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let shape = try container.decode([Int].self, forKey: .shape)
        let count = try validatedCount(of: shape, codingPath: container.codingPath + [CodingKeys.shape])
        let text = try container.decode(String.self, forKey: .float32)
        guard let data = Data(base64Encoded: text), data.count == count * MemoryLayout<Float>.size else {
            throw DecodingError.dataCorruptedError(
                forKey: .float32, in: container,
                debugDescription: "expected \(count) float32 values in base64 for shape \(shape)")
        }
        let scalars = data.withUnsafeBytes { raw in
            (0..<count).map {
                Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
            }
        }
        self.init(shape: shape, scalars: scalars)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(shape, forKey: .shape)
        var data = Data(capacity: count * 4)
        for value in scalars {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
        }
        try container.encode(data.base64EncodedString(), forKey: .float32)
    }
}

extension IntTensor: Codable {
    private enum CodingKeys: String, CodingKey { case shape, scalars }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let shape = try container.decode([Int].self, forKey: .shape)
        let count = try validatedCount(of: shape, codingPath: container.codingPath + [CodingKeys.shape])
        let scalars = try container.decode([Int].self, forKey: .scalars)
        guard scalars.count == count else {
            throw DecodingError.dataCorruptedError(
                forKey: .scalars, in: container,
                debugDescription: "shape \(shape) holds \(count) elements, but \(scalars.count) were given")
        }
        self.init(shape: shape, scalars: scalars)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(shape, forKey: .shape)
        try container.encode(scalars, forKey: .scalars)
    }
}

/// The element count of `shape`, or a `DecodingError` for a negative size or
/// a count beyond ``Tensor/maximumDecodedCount``.
private func validatedCount(of shape: [Int], codingPath: [CodingKey]) throws -> Int {
    var count = 1
    for size in shape {
        guard size >= 0, size <= Tensor.maximumDecodedCount else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: codingPath, debugDescription: "size \(size) in shape \(shape)"))
        }
        count *= size
        guard count <= Tensor.maximumDecodedCount else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: codingPath, debugDescription: "shape \(shape) is too large"))
        }
    }
    guard shape.count <= 16 else {
        throw DecodingError.dataCorrupted(
            .init(codingPath: codingPath, debugDescription: "rank \(shape.count) is too large"))
    }
    return count
}
