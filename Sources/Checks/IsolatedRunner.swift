import D3PM
import Foundation

/// Runs checks in child processes, so that a trap, a stub or an endless
/// loop in the checked code costs one check, not the whole run.
///
/// The child is an executable that understands
/// `_run-checks --implementation NAME --seed N --ids ID,ID,...` and prints
/// one ``OutcomeLine`` per finished check (the `grade` executable does). When
/// the child dies or overruns its deadline, the first unfinished check is
/// reported as not implemented, crashed or timed out, and a new child takes
/// the remaining checks.
public struct IsolatedRunner {
    /// The executable that runs checks.
    public var executable: URL
    /// Arguments before `_run-checks` (a script's path, when the executable is a shell).
    public var leadingArguments: [String] = []
    public var implementation: Implementation
    public var seed: UInt64
    /// The most time one check may take, in seconds.
    public var timeout: Double

    public init(executable: URL, implementation: Implementation, seed: UInt64, timeout: Double) {
        self.executable = executable
        self.implementation = implementation
        self.seed = seed
        self.timeout = timeout
    }

    /// Runs `checks` in order; `progress` hears of each outcome as it comes.
    public func run(_ checks: [Check], progress: (CheckOutcome) -> Void = { _ in }) throws -> [CheckOutcome] {
        var outcomes: [CheckOutcome] = []
        var pending = checks
        while let next = pending.first {
            let child = try ChildRun(
                executable: executable,
                arguments: leadingArguments + ["_run-checks", "--implementation", implementation.rawValue, "--seed", String(seed),
                            "--ids", pending.map(\.id).joined(separator: ",")])
            var lastProgress = Date()
            var reported = 0
            func collect() {
                for line in child.takeLines() {
                    guard let outcome = OutcomeLine.decode(line), let index = pending.firstIndex(where: { $0.id == outcome.id }) else { continue }
                    pending.remove(at: index)
                    outcomes.append(outcome)
                    progress(outcome)
                    reported += 1
                    lastProgress = Date()
                }
            }
            var timedOut = false
            while child.isRunning {
                collect()
                if Date().timeIntervalSince(lastProgress) > timeout {
                    child.kill()
                    timedOut = true
                    break
                }
                Thread.sleep(forTimeInterval: 0.005)
            }
            child.waitUntilExit()
            collect()
            guard let stuck = pending.first else { break }
            if child.exitedCleanly && !timedOut && reported == 0 && stuck.id == next.id {
                // The child ended without running anything: a broken executable.
                throw RunnerError.childFailed(child.standardError)
            }
            var outcome = CheckOutcome(check: stuck, status: .crashed)
            outcome.hint = stuck.hint
            if timedOut {
                outcome.status = .timedOut
                outcome.message = "no result after \(Int(timeout)) s: an endless loop? (change the limit with --timeout)"
            } else if child.terminationStatus == NotImplemented.exitCode, let line = child.notImplementedLine {
                outcome.status = .notImplemented
                outcome.message = line
                outcome.hint = nil
            } else {
                outcome.message = child.crashSummary
            }
            pending.removeFirst()
            outcomes.append(outcome)
            progress(outcome)
        }
        return outcomes
    }

    /// Why a run could not be made.
    public enum RunnerError: Error, CustomStringConvertible {
        case childFailed(String)
        public var description: String {
            switch self {
            case .childFailed(let stderr): "the check runner failed to start: \(stderr)"
            }
        }
    }
}

/// The line a child prints for each finished check: a prefix and the outcome as JSON.
public enum OutcomeLine {
    static let prefix = "D3PM-OUTCOME "

    /// The line for `outcome`, newline included.
    public static func encode(_ outcome: CheckOutcome) -> String {
        let data = (try? JSONEncoder().encode(outcome)) ?? Data()
        return prefix + String(decoding: data, as: UTF8.self) + "\n"
    }

    /// The outcome in a line, if it is an outcome line.
    public static func decode(_ line: Substring) -> CheckOutcome? {
        guard line.hasPrefix(prefix) else { return nil }
        return try? JSONDecoder().decode(CheckOutcome.self, from: Data(line.dropFirst(prefix.count).utf8))
    }
}

/// One child process with its output collected as it comes.
final class ChildRun: @unchecked Sendable {
    private let process = Process()
    private let lock = NSLock()
    private var stdoutBuffer = Data()
    private var stderrBuffer = Data()

    init(executable: URL, arguments: [String]) throws {
        process.executableURL = executable
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        // A crash report without the interactive backtracer: fast, and the
        // message and the student's frames are what matter.
        environment["SWIFT_BACKTRACE"] = "enable=yes,interactive=no,color=no,sanitize=yes,threads=crashed,registers=none,images=none,limit=24,top=0,preset=friendly"
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        out.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.withLock { self.stdoutBuffer.append(data) }
        }
        err.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.withLock { if self.stderrBuffer.count < 1 << 20 { self.stderrBuffer.append(data) } }
        }
        try process.run()
        self.pipes = (out, err)
    }

    private var pipes: (Pipe, Pipe)?

    var isRunning: Bool { process.isRunning }
    var terminationStatus: Int32 { process.terminationStatus }
    var exitedCleanly: Bool { process.terminationReason == .exit && process.terminationStatus == 0 }

    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
    }

    func waitUntilExit() {
        process.waitUntilExit()
        if let (out, err) = pipes {
            out.fileHandleForReading.readabilityHandler = nil
            err.fileHandleForReading.readabilityHandler = nil
            let restOut = out.fileHandleForReading.readDataToEndOfFile()
            let restErr = err.fileHandleForReading.readDataToEndOfFile()
            lock.withLock {
                stdoutBuffer.append(restOut)
                stderrBuffer.append(restErr)
            }
            pipes = nil
        }
    }

    /// The complete lines printed so far, removed from the buffer.
    func takeLines() -> [Substring] {
        lock.withLock {
            guard let lastNewline = stdoutBuffer.lastIndex(of: UInt8(ascii: "\n")) else { return [] }
            let complete = stdoutBuffer[..<lastNewline]
            let text = String(decoding: complete, as: UTF8.self)
            stdoutBuffer.removeSubrange(...lastNewline)
            return text.split(separator: "\n")
        }
    }

    var standardError: String { lock.withLock { String(decoding: stderrBuffer, as: UTF8.self) } }

    /// The line a `notImplemented()` stub printed.
    var notImplementedLine: String? {
        standardError.split(separator: "\n").first { $0.hasPrefix(NotImplemented.marker) }
            .map { "\($0.dropFirst(NotImplemented.marker.count + 1))" }
    }

    /// The crash message and the first frame in the student's code, if any.
    var crashSummary: String {
        let lines = standardError.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        var parts: [String] = []
        if let fatal = lines.first(where: { $0.contains("Fatal error") }) {
            parts.append(fatal.trimmingCharacters(in: .whitespaces))
        } else if process.terminationReason == .uncaughtSignal {
            parts.append("the process was killed by signal \(process.terminationStatus)")
        } else {
            parts.append("the process exited with status \(process.terminationStatus)")
        }
        if let frame = lines.first(where: { $0.contains("Exercises/") && $0.contains(".swift") }) {
            parts.append("in your code: " + ChildRunStudentFrame.format(frame))
        }
        return parts.joined(separator: "; ")
    }

}

/// Where in the student's code a crash happened, from the backtrace.
public enum ChildRunStudentFrame {
    /// `Exercises/File.swift:44:17 (makeUniformQOnestep(numClasses:betas:))` from a backtrace line such as
    /// `1 static StudentExercises.makeUniformQOnestep(numClasses:betas:) + 830 in grade at /path/Exercises/File.swift:44:17`.
    public static func format(_ line: String) -> String {
        guard let at = line.range(of: "Exercises/", options: .backwards) else { return line.trimmingCharacters(in: .whitespaces) }
        let location = line[at.lowerBound...].prefix { !$0.isWhitespace }
        if let start = line.range(of: "StudentExercises."), let end = line.range(of: " + ", range: start.upperBound..<line.endIndex) {
            return "\(location) (\(line[start.upperBound..<end.lowerBound]))"
        }
        return String(location)
    }
}
