import Foundation
import Tensors

/// Reads and writes the safetensors format (the format of Hugging Face's
/// `safetensors` library, which PyTorch reads with `safetensors.torch.load_file`):
/// an 8-byte little-endian header length, a JSON header giving each tensor's
/// dtype, shape and byte range, then the raw little-endian data.
///
/// Files are written atomically (to a temporary file, then renamed), so a
/// checkpoint is complete or absent, never half-written.
public enum Safetensors {
    /// Writes float tensors, in the given order, with string metadata.
    public static func write(_ tensors: [(name: String, value: Tensor)], metadata: [String: String] = [:], to url: URL)
        throws
    {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for (name, tensor) in tensors {
            let bytes = tensor.count * 4
            header[name] =
                ["dtype": "F32", "shape": tensor.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var data = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for (_, tensor) in tensors {
            tensor.scalars.withUnsafeBufferPointer { buffer in
                #if _endian(big)
                    for value in buffer {
                        withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
                    }
                #else
                    data.append(
                        UnsafeBufferPointer(
                            start: UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: UInt8.self),
                            count: buffer.count * 4))
                #endif
            }
        }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url, options: .atomic)
    }

    /// Reads every float tensor and the metadata of a file.
    /// - Throws: ``CheckpointError`` naming the file and what is wrong with it.
    public static func read(from url: URL) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CheckpointError(file: url, problem: "cannot be read: \(error.localizedDescription)")
        }
        guard data.count >= 8 else {
            throw CheckpointError(file: url, problem: "is \(data.count) bytes long, shorter than a safetensors header")
        }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) {
            $0 | UInt64($1.element) << (8 * UInt64($1.offset))
        }
        guard headerLength <= UInt64(data.count - 8) else {
            throw CheckpointError(
                file: url,
                problem:
                    "declares a \(headerLength)-byte header but holds \(data.count - 8) bytes after the length: truncated or not safetensors"
            )
        }
        let headerEnd = 8 + Int(headerLength)
        guard let header = try? JSONSerialization.jsonObject(with: data[8..<headerEnd]) as? [String: Any] else {
            throw CheckpointError(file: url, problem: "has a header that is not a JSON object")
        }
        var tensors: [String: Tensor] = [:]
        var metadata: [String: String] = [:]
        for (name, entry) in header {
            if name == "__metadata__" {
                metadata = entry as? [String: String] ?? [:]
                continue
            }
            guard let info = entry as? [String: Any], let dtype = info["dtype"] as? String,
                let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2
            else {
                throw CheckpointError(file: url, problem: "has a malformed entry for '\(name)'")
            }
            guard dtype == "F32" else {
                throw CheckpointError(file: url, problem: "stores '\(name)' as \(dtype); only F32 is supported")
            }
            let count = shape.reduce(1, *)
            guard offsets[1] - offsets[0] == count * 4, offsets[0] >= 0, headerEnd + offsets[1] <= data.count else {
                throw CheckpointError(
                    file: url,
                    problem: "has data for '\(name)' (shape \(shape)) outside the file or of the wrong size: truncated?"
                )
            }
            let start = headerEnd + offsets[0]
            var values = [Float](repeating: 0, count: count)
            values.withUnsafeMutableBytes { destination in
                data.copyBytes(to: destination.bindMemory(to: UInt8.self), from: start..<(start + count * 4))
            }
            #if _endian(big)
                values = values.map { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) }
            #endif
            tensors[name] = Tensor(shape: shape, scalars: values)
        }
        return (tensors, metadata)
    }
}

/// A checkpoint file that cannot be used, with the reason.
public struct CheckpointError: Error, CustomStringConvertible {
    public let file: URL
    public let problem: String

    public init(file: URL, problem: String) {
        self.file = file
        self.problem = problem
    }

    public var description: String { "\(file.path) \(problem)" }
}

extension ParameterContainer {
    /// Replaces every parameter with the tensor of the same name.
    /// - Throws: ``CheckpointError`` when a parameter is missing or has another shape.
    public mutating func load(_ tensors: [String: Tensor], from file: URL) throws {
        var problem: String?
        visitParameters { name, parameter in
            guard problem == nil else { return }
            guard let value = tensors[name] else {
                problem = "has no tensor '\(name)'"
                return
            }
            guard value.shape == parameter.shape else {
                problem = "stores '\(name)' with shape \(value.shape), but the model needs \(parameter.shape)"
                return
            }
            parameter = value
        }
        if let problem { throw CheckpointError(file: file, problem: problem) }
    }
}
