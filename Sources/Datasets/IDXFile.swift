import CZlib
import Foundation

/// A data file that cannot be used, naming the file and what is wrong.
public struct DataFileError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let problem: String

    public init(file: String, problem: String) {
        self.file = file
        self.problem = problem
    }

    public var description: String { "\(file): \(problem)" }
}

/// Reads IDX files (the format of MNIST), plain or gzip-compressed, through
/// zlib in this process.
///
/// An IDX file is a big-endian header — two zero bytes, a type code (0x08
/// for unsigned bytes), the number of dimensions — then one 32-bit size per
/// dimension, then the data.
public enum IDXFile {
    /// The shape and the bytes of an unsigned-byte IDX file.
    public static func read(_ url: URL) throws -> (shape: [Int], bytes: [UInt8]) {
        let raw = try decompressedBytes(url)
        let name = url.lastPathComponent
        guard raw.count >= 4 else {
            throw DataFileError(file: name, problem: "is \(raw.count) bytes long, too short for an IDX header")
        }
        guard raw[0] == 0, raw[1] == 0 else {
            throw DataFileError(
                file: name,
                problem:
                    "does not start with an IDX magic number (first bytes \(raw.prefix(4).map { String($0, radix: 16) }))"
            )
        }
        guard raw[2] == 0x08 else {
            throw DataFileError(
                file: name, problem: "holds type code 0x\(String(raw[2], radix: 16)), not unsigned bytes (0x08)")
        }
        let rank = Int(raw[3])
        guard rank >= 1, raw.count >= 4 + 4 * rank else {
            throw DataFileError(file: name, problem: "has a truncated header (\(rank) dimensions declared)")
        }
        let shape = (0..<rank).map { i -> Int in
            let o = 4 + 4 * i
            return Int(raw[o]) << 24 | Int(raw[o + 1]) << 16 | Int(raw[o + 2]) << 8 | Int(raw[o + 3])
        }
        let expected = shape.reduce(1, *)
        let available = raw.count - 4 - 4 * rank
        guard available == expected else {
            throw DataFileError(
                file: name,
                problem: available < expected
                    ? "is truncated: shape \(shape) needs \(expected) bytes of data, the file holds \(available)"
                    : "has \(available - expected) bytes after the \(expected) that shape \(shape) needs")
        }
        return (shape, Array(raw[(4 + 4 * rank)...]))
    }

    /// The file's bytes, gunzipped when it is gzip-compressed.
    static func decompressedBytes(_ url: URL) throws -> [UInt8] {
        let name = url.lastPathComponent
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw DataFileError(file: url.path, problem: "does not exist")
        }
        guard let file = gzopen(url.path, "rb") else { throw DataFileError(file: name, problem: "cannot be opened") }
        defer { gzclose(file) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
            if count < 0 {
                var code: Int32 = 0
                let message = gzerror(file, &code).map { String(cString: $0) } ?? "unknown error"
                throw DataFileError(file: name, problem: "is not valid gzip data: \(message)")
            }
            if count == 0 { break }
            result.append(contentsOf: chunk[0..<Int(count)])
        }
        // gzread stops quietly at a truncated stream; zlib reports it here.
        var code: Int32 = 0
        _ = gzerror(file, &code)
        if code != Z_OK && code != Z_STREAM_END {
            throw DataFileError(file: name, problem: "is a truncated or corrupt gzip stream (zlib error \(code))")
        }
        return result
    }
}
