import Foundation
import Tensors

/// A gnuplot process kept open, for a window that stays live and answers
/// keys: scripts go in one at a time, and key presses come back as lines.
public final class GnuplotSession: @unchecked Sendable {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var buffer = Data()

    /// The interactive terminals that open a window, best first.
    public static let windowTerminals = ["qt", "wxt", "x11"]

    /// The window terminal available here, or nil with the reason.
    public static func windowTerminal(
        gnuplot: Gnuplot, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> (String?, String) {
        #if os(Linux)
            guard environment["DISPLAY"] != nil || environment["WAYLAND_DISPLAY"] != nil else {
                return (nil, "no display (DISPLAY is not set)")
            }
        #endif
        let terminals = gnuplot.terminals()
        guard let terminal = windowTerminals.first(where: terminals.contains) else {
            return (
                nil,
                "this gnuplot has no window terminal: install gnuplot-qt or gnuplot-x11 (Debian/Ubuntu), or `brew install gnuplot` (macOS)"
            )
        }
        return (terminal, "")
    }

    public init(gnuplot: Gnuplot) throws {
        process.executableURL = gnuplot.executable
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        send("set print '-'\n")  // `print` answers on standard output, not standard error
    }

    deinit { close() }

    /// Sends script lines.
    public func send(_ script: String) {
        input.fileHandleForWriting.write(Data(script.utf8))
    }

    /// Waits for a key in the window and returns it: gnuplot's MOUSE_KEY code
    /// (1008 left, 1009 up, 1010 right, 1011 down, otherwise the character's code).
    public func nextKey() -> Int? {
        send("pause mouse keypress\nprint sprintf('KEY %d', MOUSE_KEY)\n")
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                if line.hasPrefix("KEY ") { return Int(line.dropFirst(4)) }
                continue
            }
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { return nil }
            buffer.append(data)
        }
    }

    /// Ends gnuplot, closing its window.
    public func close() {
        guard process.isRunning else { return }
        send("exit\n")
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    /// A script that draws grayscale images side by side in the current terminal.
    public static func imagesScript(_ panels: [ImagePanel], levels: Int, masked: Bool = false, title: String) -> String
    {
        let top = max(levels - 1, 1)
        var script = "set multiplot layout 1,\(panels.count) title \"\(title)\(masked ? "  (orange: [MASK])" : "")\"\n"
        let palette =
            masked
            ? "set palette defined (0 'black', \(top) 'white', \(Double(top) + 0.5) 'white', \(Double(top) + 0.5) '#f28e2b', \(top + 1) '#f28e2b'); set cbrange [0:\(top + 1)]"
            : "set palette gray; set cbrange [0:\(top)]"
        script += "unset xtics; unset ytics; unset colorbox; set border 0; \(palette); set size ratio -1\n"
        for (index, panel) in panels.enumerated() {
            let (h, w) = (panel.pixels.shape[0], panel.pixels.shape[1])
            script += "$P\(index) << EOD\n"
            for row in 0..<h {
                script +=
                    (0..<w).map { String(format: "%g", panel.pixels.scalars[row * w + $0]) }.joined(separator: " ")
                    + "\n"
            }
            script +=
                "EOD\nset title \"\(panel.title)\"\nset xrange [-0.5:\(Double(w) - 0.5)]; set yrange [\(Double(h) - 0.5):-0.5]\n"
            script += "plot $P\(index) matrix with image notitle\n"
        }
        return script + "unset multiplot\n"
    }
}
