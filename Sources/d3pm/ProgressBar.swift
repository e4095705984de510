import Foundation

/// A one-line progress bar on standard error: redrawn in place on a
/// terminal, printed every so often otherwise (logs, CI).
struct ProgressBar {
    let total: Int
    let label: String
    private let start = Date()
    private let startCount: Int
    private let interactive = isatty(2) != 0
    private var lastPrinted = Date.distantPast

    init(total: Int, label: String, startingAt start: Int = 0) {
        self.total = total
        self.label = label
        self.startCount = start
    }

    /// Shows `done` of `total`, with `detail` after the bar.
    mutating func update(_ done: Int, detail: String = "") {
        let now = Date()
        let finished = done >= total
        guard finished || now.timeIntervalSince(lastPrinted) >= (interactive ? 0.1 : 10) else { return }
        lastPrinted = now
        let fraction = total > 0 ? Double(done) / Double(total) : 1
        let width = 24
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let elapsed = now.timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done - startCount) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let line = "\(label) [\(bar)] \(done)/\(total) \(detail) ETA \(Self.duration(eta))"
        FileHandle.standardError.write(
            Data(((interactive ? "\r\u{1B}[2K" : "") + line + (interactive && !finished ? "" : "\n")).utf8))
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600
            ? "\(s / 3600)h\(String(format: "%02d", s / 60 % 60))m"
            : s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }
}
