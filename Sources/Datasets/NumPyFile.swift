import Foundation

/// Writes NumPy's .npy format (version 1.0), which `numpy.load` reads.
public enum NumPyFile {
    /// Writes unsigned bytes of the given shape, atomically.
    public static func write(uint8 values: [UInt8], shape: [Int], to url: URL) throws {
        try write(descr: "|u1", shape: shape, body: Data(values), to: url)
    }

    /// Writes 64-bit little-endian integers of the given shape, atomically.
    public static func write(int64 values: [Int], shape: [Int], to url: URL) throws {
        var body = Data(capacity: values.count * 8)
        for v in values { withUnsafeBytes(of: Int64(v).littleEndian) { body.append(contentsOf: $0) } }
        try write(descr: "<i8", shape: shape, body: body, to: url)
    }

    static func write(descr: String, shape: [Int], body: Data, to url: URL) throws {
        precondition(
            shape.reduce(1, *) * (descr == "<i8" ? 8 : 1) == body.count,
            "NumPyFile: \(body.count) bytes for shape \(shape)")
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        // Magic (6) + version (2) + length (2) + header + newline, padded to 64 bytes.
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        withUnsafeBytes(of: UInt16(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array(header.utf8))
        data.append(body)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url, options: .atomic)
    }
}
