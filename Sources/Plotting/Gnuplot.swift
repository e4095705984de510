import Foundation

/// A gnuplot process that draws one figure from a script.
///
/// Design notes: the kit talks to gnuplot through a plain pipe (Foundation's
/// `Process`) rather than through gnuplot-iostream, which would bring Boost
/// (about 149 MB of headers) and a C++ target into every student's build, is
/// a 2014 snapshot in Debian, and loses gnuplot's exit status and error
/// output. The pipe surfaces both, and gnuplot-nox, the smallest package, is
/// enough for files and terminals. Small data travel inline as gnuplot data
/// blocks (`$name << EOD`); images go as binary float32 through a temporary
/// file. One process draws one figure.
public struct Gnuplot: Sendable {
    /// The gnuplot executable.
    public let executable: URL

    /// Finds gnuplot on the PATH (or at `$GNUPLOT`).
    /// - Throws: ``PlotError/gnuplotMissing`` when it is not installed.
    public init() throws {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["GNUPLOT"], FileManager.default.isExecutableFile(atPath: explicit) {
            executable = URL(fileURLWithPath: explicit)
            return
        }
        let path = environment["PATH"] ?? "/usr/bin:/bin:/usr/local/bin:/opt/homebrew/bin"
        for directory in path.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent("gnuplot")
            if FileManager.default.isExecutableFile(atPath: candidate.path) {
                executable = candidate
                return
            }
        }
        throw PlotError.gnuplotMissing
    }

    /// Whether gnuplot is installed.
    public static var isAvailable: Bool { (try? Gnuplot()) != nil }

    /// The terminals this gnuplot offers (`pngcairo`, `gif`, `sixelgd`, `qt`, ...).
    public func terminals() -> Set<String> {
        guard let output = try? run(script: "set terminal\n", capturingStandardError: true) else { return [] }
        return Set(
            output.split(separator: "\n").compactMap { line in
                line.split(separator: " ", omittingEmptySubsequences: true).first.map(String.init)
            })
    }

    /// Runs `script` and returns what gnuplot printed on standard output
    /// (and standard error too when `capturingStandardError`).
    /// - Throws: ``PlotError/gnuplotFailed(status:message:)`` with gnuplot's own message.
    @discardableResult
    public func run(script: String, capturingStandardError: Bool = false) throws -> String {
        let process = Process()
        process.executableURL = executable
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Read both outputs while writing, so that neither pipe fills up.
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data(), errData = Data()
        group.enter()
        DispatchQueue.global().async {
            outData = output.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        group.enter()
        DispatchQueue.global().async {
            errData = errors.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        input.fileHandleForWriting.write(Data(script.utf8))
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        group.wait()
        let errorText = String(decoding: errData, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw PlotError.gnuplotFailed(
                status: process.terminationStatus, message: errorText.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let outText = String(decoding: outData, as: UTF8.self)
        return capturingStandardError ? outText + errorText : outText
    }
}

/// Why a figure could not be drawn.
public enum PlotError: Error, CustomStringConvertible, Equatable {
    /// gnuplot is not installed.
    case gnuplotMissing
    /// gnuplot ran and failed; `message` is what it said.
    case gnuplotFailed(status: Int32, message: String)
    /// The figure was asked for with unusable data.
    case badInput(String)

    public var description: String {
        switch self {
        case .gnuplotMissing:
            "gnuplot is not installed: on Debian/Ubuntu `sudo apt-get install gnuplot-nox` (files and terminals) or `gnuplot-qt` (a window); on macOS `brew install gnuplot`."
        case .gnuplotFailed(let status, let message):
            "gnuplot failed (exit status \(status)): \(message)"
        case .badInput(let message):
            "cannot plot: \(message)"
        }
    }

    /// The one line to print when gnuplot is missing.
    public static let installHint = PlotError.gnuplotMissing.description
}
