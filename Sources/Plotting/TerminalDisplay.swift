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
        // tmux passes neither protocol through unless built and set up for it: text is what shows.
        if environment["TMUX"] != nil { return .text }
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
        if (mode == .sixel || mode == .kitty) && ProcessInfo.processInfo.environment["TMUX"] != nil
            && !Self.warnedAboutTmux
        {
            Self.warnedAboutTmux = true
            print(
                "(inside tmux, \(mode.rawValue) images show only where tmux passes them through; if nothing appears, use --show text)"
            )
        }
        if let output = try rendering(of: png, text: text()) { print(output) }
    }

    nonisolated(unsafe) private static var warnedAboutTmux = false

    /// The terminal's width in columns: the terminal's own, else $COLUMNS, else 80.
    public static func columns(environment: [String: String] = ProcessInfo.processInfo.environment) -> Int {
        var size = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 { return Int(size.ws_col) }
        return environment["COLUMNS"].flatMap(Int.init).flatMap { $0 > 0 ? $0 : nil } ?? 80
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

    /// A grayscale image with `levels` gray levels as text, `charactersPerPixel` (1 or 2) characters per pixel.
    public static func text(image: Tensor, levels: Int, charactersPerPixel: Int = 2) -> String {
        let shades: [Character] = [" ", ".", ":", "-", "=", "+", "*", "#", "%", "@"]
        let (h, w) = (image.shape[0], image.shape[1])
        return (0..<h).map { y in
            String(
                (0..<w).flatMap { x -> [Character] in
                    let v = image.scalars[y * w + x] / Float(max(levels - 1, 1))
                    let c = shades[min(max(Int((v * Float(shades.count - 1)).rounded()), 0), shades.count - 1)]
                    return charactersPerPixel == 2 ? [c, c] : [c]
                })
        }.joined(separator: "\n")
    }

    /// Images side by side as text, each under its title, in as many rows of
    /// panels as the terminal's width (`width` columns) needs; one character
    /// per pixel where two would not fit one panel.
    public static func text(images: [(title: String, image: Tensor)], levels: Int, width: Int = columns()) -> String {
        guard let first = images.first else { return "" }
        let pixels = first.image.shape[1]
        let perPixel = 2 * pixels <= width ? 2 : 1
        let panelWidth = pixels * perPixel, separator = " | "
        let perRow = max(1, (width + separator.count) / (panelWidth + separator.count))
        var blocks: [String] = []
        for start in stride(from: 0, to: images.count, by: perRow) {
            let group = Array(images[start..<min(start + perRow, images.count)])
            let rendered = group.map {
                text(image: $0.image, levels: levels, charactersPerPixel: perPixel).split(
                    separator: "\n", omittingEmptySubsequences: false)
            }
            var lines = [
                group.map {
                    String($0.title.prefix(panelWidth)).padding(toLength: panelWidth, withPad: " ", startingAt: 0)
                }
                .joined(separator: separator)
            ]
            for row in 0..<first.image.shape[0] {
                lines.append(rendered.map { String($0[row]) }.joined(separator: separator))
            }
            blocks.append(
                lines.map { $0.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) }.joined(
                    separator: "\n"))
        }
        return blocks.joined(separator: "\n\n")
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
