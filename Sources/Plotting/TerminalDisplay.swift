import Foundation
import Tensors

/// Where figures are shown besides their files.
public enum DisplayMode: String, CaseIterable, Sendable {
    /// Files only (the paths are printed).
    case file
    /// Inline in a terminal that speaks sixel graphics (xterm -ti vt340, mlterm, foot, WezTerm, ...).
    case sixel
    /// Inline in a terminal that speaks the kitty graphics protocol (kitty, WezTerm, Ghostty, Konsole).
    case kitty
    /// As text in any terminal.
    case text
    /// kitty or sixel where the terminal says it supports them, text on other terminals, files otherwise.
    case auto

    /// The mode `auto` stands for in this environment.
    public func resolved(
        environment: [String: String] = ProcessInfo.processInfo.environment, isTerminal: Bool = isatty(1) != 0
    ) -> DisplayMode {
        guard self == .auto else { return self }
        guard isTerminal else { return .file }
        let term = environment["TERM"] ?? "", program = environment["TERM_PROGRAM"] ?? ""
        if term == "xterm-kitty" || program == "WezTerm" || program == "ghostty"
            || environment["KITTY_WINDOW_ID"] != nil
        {
            return .kitty
        }
        if term.contains("sixel") || term.hasPrefix("mlterm") || term.hasPrefix("foot") || term == "yaft-256color" {
            return .sixel
        }
        return .text
    }
}

/// Shows figures in the terminal.
public struct TerminalDisplay: Sendable {
    public let mode: DisplayMode

    public init(_ mode: DisplayMode) { self.mode = mode.resolved() }

    /// The escape sequence or text that shows `png` in this mode (nil for `file`).
    /// `text` is the fallback description used for text terminals.
    public func rendering(of png: URL, text: @autoclosure () -> String) throws -> String? {
        switch mode {
        case .file, .auto: return nil
        case .text: return text()
        case .kitty: return Self.kittyImage(try Data(contentsOf: png))
        case .sixel: return try Self.sixelImage(png)
        }
    }

    /// Prints `png` in this mode.
    public func show(_ png: URL, text: @autoclosure () -> String) throws {
        if let output = try rendering(of: png, text: text()) { print(output) }
    }

    /// The kitty graphics protocol: the PNG, base64-encoded, in chunks of 4096 bytes.
    static func kittyImage(_ png: Data) -> String {
        let encoded = png.base64EncodedString()
        var chunks: [Substring] = []
        var rest = Substring(encoded)
        while !rest.isEmpty {
            chunks.append(rest.prefix(4096))
            rest = rest.dropFirst(4096)
        }
        return chunks.enumerated().map { index, chunk in
            let more = index < chunks.count - 1 ? 1 : 0
            let control = index == 0 ? "a=T,f=100,m=\(more)" : "m=\(more)"
            return "\u{1B}_G\(control);\(chunk)\u{1B}\\"
        }.joined()
    }

    /// The PNG redrawn by gnuplot's sixel terminal.
    static func sixelImage(_ png: URL) throws -> String {
        let gnuplot = try Gnuplot()
        let path = png.path.replacingOccurrences(of: "'", with: "''")
        let script = """
            set terminal sixelgd truecolor size 640,480
            set output
            unset border; unset xtics; unset ytics; unset key
            set margins 0,0,0,0
            plot '\(path)' binary filetype=png with rgbimage

            """
        return try gnuplot.run(script: script)
    }

    /// A grayscale image with `levels` gray levels as text, two characters per pixel.
    public static func text(image: Tensor, levels: Int) -> String {
        let shades: [Character] = [" ", ".", ":", "-", "=", "+", "*", "#", "%", "@"]
        let (h, w) = (image.shape[0], image.shape[1])
        return (0..<h).map { y in
            String(
                (0..<w).flatMap { x -> [Character] in
                    let v = image.scalars[y * w + x] / Float(max(levels - 1, 1))
                    let c = shades[min(max(Int((v * Float(shades.count - 1)).rounded()), 0), shades.count - 1)]
                    return [c, c]
                })
        }.joined(separator: "\n")
    }

    /// Images side by side as text, each under its title.
    public static func text(images: [(title: String, image: Tensor)], levels: Int) -> String {
        guard let first = images.first else { return "" }
        let width = first.image.shape[1] * 2
        let rendered = images.map {
            text(image: $0.image, levels: levels).split(separator: "\n", omittingEmptySubsequences: false)
        }
        var lines = [
            images.map { $0.title.padding(toLength: width, withPad: " ", startingAt: 0) }.joined(separator: " | ")
        ]
        for row in 0..<first.image.shape[0] { lines.append(rendered.map { String($0[row]) }.joined(separator: " | ")) }
        return lines.joined(separator: "\n")
    }

    /// A matrix as a table of values, for text terminals.
    public static func text(matrix: Tensor, title: String) -> String {
        let (r, c) = (matrix.shape[0], matrix.shape[1])
        var lines = [title]
        for i in 0..<r {
            lines.append((0..<c).map { String(format: "%6.3f", matrix.scalars[i * c + $0]) }.joined(separator: " "))
        }
        return lines.joined(separator: "\n")
    }
}
