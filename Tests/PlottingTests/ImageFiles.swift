import CZlib
import Foundation

/// A decoded PNG: enough of the format to read back what gnuplot drew.
struct DecodedPNG {
    let width: Int
    let height: Int
    /// RGB triples, row by row.
    let pixels: [UInt8]

    func rgb(x: Int, y: Int) -> (r: Int, g: Int, b: Int) {
        let i = (y * width + x) * 3
        return (Int(pixels[i]), Int(pixels[i + 1]), Int(pixels[i + 2]))
    }

    enum DecodeError: Error {
        case notPNG
        case unsupported(String)
        case corrupt(String)
    }

    init(contentsOf url: URL) throws {
        let data = [UInt8](try Data(contentsOf: url))
        guard data.count > 8, Array(data[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else {
            throw DecodeError.notPNG
        }
        func u32(_ i: Int) -> Int {
            Int(data[i]) << 24 | Int(data[i + 1]) << 16 | Int(data[i + 2]) << 8 | Int(data[i + 3])
        }
        var offset = 8, width = 0, height = 0, colorType = 0, bitDepth = 0
        var compressed: [UInt8] = [], palette: [UInt8] = []
        while offset + 8 <= data.count {
            let length = u32(offset)
            let type = String(decoding: data[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let body = Array(data[(offset + 8)..<(offset + 8 + length)])
            switch type {
            case "IHDR":
                width = u32(offset + 8)
                height = u32(offset + 12)
                bitDepth = Int(body[8])
                colorType = Int(body[9])
                guard body[12] == 0 else { throw DecodeError.unsupported("interlaced") }
            case "PLTE": palette = body
            case "IDAT": compressed += body
            default: break
            }
            offset += 12 + length
        }
        guard bitDepth == 8 else { throw DecodeError.unsupported("bit depth \(bitDepth)") }
        let channels: Int
        switch colorType {
        case 2: channels = 3
        case 6: channels = 4
        case 3: channels = 1
        case 0: channels = 1
        case 4: channels = 2
        default: throw DecodeError.unsupported("color type \(colorType)")
        }
        let stride = width * channels
        var raw = [UInt8](repeating: 0, count: height * (stride + 1))
        var rawLength = uLongf(raw.count)
        let status = uncompress(&raw, &rawLength, compressed, uLong(compressed.count))
        guard status == Z_OK else { throw DecodeError.corrupt("zlib status \(status)") }
        var image = [UInt8](repeating: 0, count: height * stride)
        for y in 0..<height {
            let filter = raw[y * (stride + 1)]
            for x in 0..<stride {
                let value = Int(raw[y * (stride + 1) + 1 + x])
                let a = x >= channels ? Int(image[y * stride + x - channels]) : 0
                let b = y > 0 ? Int(image[(y - 1) * stride + x]) : 0
                let c = x >= channels && y > 0 ? Int(image[(y - 1) * stride + x - channels]) : 0
                let predicted: Int
                switch filter {
                case 0: predicted = 0
                case 1: predicted = a
                case 2: predicted = b
                case 3: predicted = (a + b) / 2
                case 4:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predicted = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                default: throw DecodeError.corrupt("filter \(filter)")
                }
                image[y * stride + x] = UInt8((value + predicted) & 0xFF)
            }
        }
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            switch colorType {
            case 3:
                let p = Int(image[i]) * 3
                rgb[i * 3] = palette[p]
                rgb[i * 3 + 1] = palette[p + 1]
                rgb[i * 3 + 2] = palette[p + 2]
            case 0, 4:
                let v = image[i * channels]
                rgb[i * 3] = v
                rgb[i * 3 + 1] = v
                rgb[i * 3 + 2] = v
            default:
                rgb[i * 3] = image[i * channels]
                rgb[i * 3 + 1] = image[i * channels + 1]
                rgb[i * 3 + 2] = image[i * channels + 2]
            }
        }
        self.width = width
        self.height = height
        self.pixels = rgb
    }
}

/// The size and frame count of a GIF, read by walking its blocks.
struct GIFSummary {
    let width: Int
    let height: Int
    let frames: Int

    init(contentsOf url: URL) throws {
        let data = [UInt8](try Data(contentsOf: url))
        guard data.count > 13, String(decoding: data[0..<6], as: UTF8.self) == "GIF89a" else {
            throw DecodedPNG.DecodeError.corrupt("not a GIF89a")
        }
        width = Int(data[6]) | Int(data[7]) << 8
        height = Int(data[8]) | Int(data[9]) << 8
        var offset = 13
        if data[10] & 0x80 != 0 { offset += 3 << (Int(data[10] & 7) + 1) }
        func skipSubBlocks() {
            while offset < data.count, data[offset] != 0 { offset += Int(data[offset]) + 1 }
            offset += 1
        }
        var frames = 0
        loop: while offset < data.count {
            switch data[offset] {
            case 0x21:
                offset += 2
                skipSubBlocks()
            case 0x2C:
                frames += 1
                let flags = data[offset + 9]
                offset += 10
                if flags & 0x80 != 0 { offset += 3 << (Int(flags & 7) + 1) }
                offset += 1
                skipSubBlocks()
            case 0x3B: break loop
            default: throw DecodedPNG.DecodeError.corrupt("unexpected block \(data[offset]) at \(offset)")
            }
        }
        self.frames = frames
    }
}
