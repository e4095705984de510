import CProcess
import Checks
import D3PM
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Grades checks: each check's calls run in a fresh runner process, and the
/// verdict is reached here, from the returned results alone.
///
/// Whatever the runner prints, a forged line included, can only cost the
/// student: a result is accepted only as the single well-formed
/// ``RunnerMessage/finished(results:)`` on the channel of a runner that exited
/// with status 0, and it is then judged like any other.
public struct Grader: Sendable {
    /// The runner executable as built (`student-runner`, `solutions-runner`).
    public let runner: URL
    public var seed: UInt64
    /// The most seconds one check may take.
    public var timeout: Double
    /// The unprivileged user the runner runs as, when the grader runs as root
    /// (course deployments); `nil`: the grader's own user.
    public let user: String?
    /// The copy of the runner that is run, checked before every check.
    private let copy: RunnerCopy

    /// A grader of `runner`. It runs a private copy, in a folder of its own
    /// that is also the runner's working directory, and checks before every
    /// check that the copy is unchanged: code that rewrites its own runner
    /// (to run another student's, say) loses every check that follows.
    /// With `user`, the runner runs as that user, who can read the copy but
    /// not change it.
    public init(runner: URL, seed: UInt64, timeout: Double, user: String? = nil) throws {
        self.runner = runner
        self.seed = seed
        self.timeout = timeout
        self.user = user
        copy = try RunnerCopy(of: runner, runnableByOthers: user != nil)
        #if os(Linux)
            if user != nil { Self.limitProcessesOfTheRunnerUser() }
        #endif
    }

    /// Whether the kernel lets a runner's lock-down restrict what it reads
    /// (Landlock) to its own program and process: where not, it reads what
    /// its user may.
    public static var runnerReadingIsRestricted: Bool { cp_reading_restriction_version() > 0 }

    /// The most processes and threads the runner user may have at once
    /// when runners run as another user (a batch, Gradescope): one
    /// submission's code starting thirty thousand threads would otherwise
    /// take the machine's every process ID, and the builds and graders of
    /// the others would fail to start. Set on this process, whose runners
    /// inherit it through the change of user; root itself is not held to it.
    public static let runnerUserProcessLimit = 4096

    #if os(Linux)
        static func limitProcessesOfTheRunnerUser() {
            var limit = rlimit(rlim_cur: rlim_t(runnerUserProcessLimit), rlim_max: rlim_t(runnerUserProcessLimit))
            _ = setrlimit(__rlimit_resource_t(__RLIMIT_NPROC.rawValue), &limit)
        }
    #endif

    /// Grades `checks` in order; `progress` hears of each outcome as it comes.
    public func grade(_ checks: [Check], progress: (CheckOutcome) -> Void = { _ in }) throws -> [CheckOutcome] {
        try checks.map { check in
            let outcome = try grade(check)
            progress(outcome)
            return outcome
        }
    }

    /// Grades one check.
    public func grade(_ check: Check) throws -> CheckOutcome {
        guard copy.isIntact() else {
            var outcome = CheckOutcome(check: check, status: .failed)
            outcome.message =
                "your code changed the runner program while it was graded: this check and the ones after it are not graded"
            return outcome
        }
        let trial = check.trial(seed: seed)
        let run = try spawn(trial.calls)
        var outcome: CheckOutcome
        switch Self.results(of: run, calls: trial.calls, runner: copy.executable) {
        case .success(let results):
            outcome = check.judge(trial, results: results)
        case .failure(let problem):
            outcome = CheckOutcome(check: check, status: problem.status)
            outcome.message = problem.message
            outcome.hint = problem.status == .notImplemented ? nil : check.hint
        }
        outcome.output = Self.printed(run)
        outcome.seconds = run.seconds
        return outcome
    }

    /// Makes `calls` in a runner process and returns their results, for
    /// pictures of the student's own matrices; throws what went wrong.
    public func perform(_ calls: [ExerciseCall]) throws -> [CallResult] {
        guard copy.isIntact() else {
            throw Problem(status: .failed, message: "your code changed the runner program")
        }
        let run = try spawn(calls)
        switch Self.results(of: run, calls: calls, runner: copy.executable) {
        case .success(let results): return results
        case .failure(let problem): throw problem
        }
    }

    /// One runner process making `calls`: the grader's copy of the runner, in its folder, as its user.
    private func spawn(_ calls: [ExerciseCall]) throws -> RunnerProcess {
        try RunnerProcess.run(
            copy.executable, request: try JSONEncoder().encode(RunnerRequest(calls: calls)), timeout: timeout,
            environment: Self.runnerEnvironment, user: user, directory: copy.folder)
    }

    /// What a run that returned no usable results amounts to.
    public struct Problem: Error, CustomStringConvertible {
        public let status: CheckOutcome.Status
        public let message: String
        public var description: String { "\(status.rawValue): \(message)" }
    }

    /// The runner's environment: the kit's settings (`D3PM_...`), the
    /// library paths and the locale, not the grader's whole environment (an
    /// instructor's tokens, say, would otherwise reach the student's code).
    static let runnerEnvironment: [String: String] = {
        let passed: Set<String> = [
            "PATH", "LANG", "LC_ALL", "LC_CTYPE", "LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH", "DYLD_FRAMEWORK_PATH",
        ]
        var environment = ProcessInfo.processInfo.environment.filter { name, _ in
            name.hasPrefix("D3PM_") || passed.contains(name)
        }
        #if os(Linux)
            // The locked-down runner cannot start Swift's backtracer: its own
            // crash reporter writes the stack instead (cp_install_crash_reporter).
            environment["SWIFT_BACKTRACE"] = "enable=no"
        #else
            // A crash report without the interactive backtracer: fast, and the
            // message and the student's frames are what matter.
            environment["SWIFT_BACKTRACE"] =
                "enable=yes,interactive=no,color=no,sanitize=yes,threads=crashed,registers=none,images=none,limit=24,top=0,preset=friendly"
        #endif
        return environment
    }()

    /// The results of a run, or why there are none.
    static func results(of run: RunnerProcess, calls: [ExerciseCall], runner: URL) -> Result<[CallResult], Problem> {
        let lines = run.channel.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        var messages: [RunnerMessage] = []
        var unreadable = 0
        // A runner sends one line per call and one with the results: more is not the runner's doing.
        let forged = run.channelOverflowed || lines.count > calls.count + 1
        for line in lines where !forged {
            if let message = try? JSONDecoder().decode(RunnerMessage.self, from: Data(line)) {
                messages.append(message)
            } else {
                unreadable += 1
            }
        }
        let lastStarted = messages.last { if case .started = $0 { return true } else { return false } }
        var inside = ""
        // The function is the grader's name for the call, not what the runner said.
        if case .started(let index, _) = lastStarted, calls.indices.contains(index) {
            inside = " inside \(calls[index].function)"
        }
        let stderr = String(decoding: run.standardError, as: UTF8.self)
        switch run.ending {
        case .timedOut:
            return .failure(
                Problem(
                    status: .timedOut,
                    message:
                        "no result after \(formatSeconds(run.seconds))\(inside): an endless loop? (change the limit with --timeout)"
                ))
        case .signalled(let signal):
            return .failure(
                Problem(
                    status: .crashed,
                    message: crashSummary(
                        stderr, runner: runner, fallback: "the process was killed by signal \(signal)\(inside)")))
        case .exited(let status) where status == NotImplemented.exitCode:
            if let line = stderr.split(separator: "\n").first(where: { $0.hasPrefix(NotImplemented.marker) }) {
                return .failure(
                    Problem(status: .notImplemented, message: String(line.dropFirst(NotImplemented.marker.count + 1))))
            }
            return .failure(
                Problem(status: .crashed, message: "your code ended the process with exit status \(status)\(inside)"))
        case .exited(let status) where status != 0:
            return .failure(
                Problem(
                    status: .crashed,
                    message: crashSummary(
                        stderr, runner: runner,
                        fallback: "your code ended the process with exit status \(status)\(inside)")))
        case .exited where forged:
            return .failure(
                Problem(
                    status: .failed,
                    message: "your code wrote to the grader's channel (descriptor 3): the results cannot be trusted"))
        case .exited:
            let finished = messages.compactMap { message -> [CallResult]? in
                if case .finished(let results) = message { return results } else { return nil }
            }
            guard unreadable == 0, finished.count == 1, case .finished = messages.last else {
                if finished.isEmpty {
                    return .failure(
                        Problem(
                            status: .crashed,
                            message:
                                "your code ended the process with exit status 0\(inside), before the results were sent")
                    )
                }
                return .failure(
                    Problem(
                        status: .failed,
                        message: "your code wrote to the grader's channel (descriptor 3): the results cannot be trusted"
                    ))
            }
            guard finished[0].count == calls.count else {
                return .failure(
                    Problem(
                        status: .failed,
                        message: "the runner sent \(finished[0].count) results for \(calls.count) calls"))
            }
            return .success(finished[0])
        }
    }

    /// The crash message and the first frame in the student's code, if any:
    /// from the runner's own crash report (Linux) or Swift's backtrace.
    static func crashSummary(_ stderr: String, runner: URL, fallback: String) -> String {
        let lines = stderr.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        var parts: [String] = []
        if let fatal = lines.first(where: { $0.contains("Fatal error") }) {
            parts.append(fatal.trimmingCharacters(in: .whitespaces))
        } else {
            parts.append(fallback)
        }
        if let location = CrashLocation.studentFrame(in: lines, runner: runner) {
            parts.append("in your code: " + location)
        } else if let frame = lines.first(where: {
            $0.contains("Exercises/") && $0.contains(".swift") && !$0.hasPrefix(CrashLocation.framePrefix)
        }) {
            parts.append("in your code: " + StudentFrame.format(frame))
        }
        return parts.joined(separator: "; ")
    }

    /// The first lines the student's code printed, marked as such.
    static func printed(_ run: RunnerProcess) -> String? {
        var text = String(decoding: run.standardOutput, as: UTF8.self)
        if text.hasSuffix("\n") { text.removeLast() }
        guard !text.isEmpty else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let shown = lines.prefix(12).joined(separator: "\n")
        return lines.count > 12 ? shown + "\n... (\(lines.count - 12) more lines)" : shown
    }

    static func formatSeconds(_ seconds: Double) -> String { String(format: "%.0f s", seconds) }
}

/// Where in the student's code a crash happened, from the backtrace.
public enum StudentFrame {
    /// `Exercises/File.swift:44:17 (makeUniformQOnestep(numClasses:betas:))` from a backtrace line such as
    /// `1 static StudentExercises.makeUniformQOnestep(numClasses:betas:) + 830 in student-runner at /path/Exercises/File.swift:44:17`.
    public static func format(_ line: String) -> String {
        guard let at = line.range(of: "Exercises/", options: .backwards) else {
            return line.trimmingCharacters(in: .whitespaces)
        }
        let location = line[at.lowerBound...].prefix { !$0.isWhitespace }
        if let start = line.range(of: "StudentExercises."),
            let end = line.range(of: " + ", range: start.upperBound..<line.endIndex)
        {
            return "\(location) (\(line[start.upperBound..<end.lowerBound]))"
        }
        return String(location)
    }
}

/// Where a crash happened in the student's code, from the frames the
/// runner's crash reporter wrote (`D3PM-FRAME <image> <offset>`),
/// symbolised with llvm-symbolizer (it comes with the Swift toolchain).
enum CrashLocation {
    static let framePrefix = "D3PM-FRAME "

    /// `Exercises/File.swift:42:57` for the first frame in an exercise file.
    static func studentFrame(in lines: [String], runner: URL) -> String? {
        let runnerPath = runner.resolvingSymlinksInPath().path
        let offsets = lines.compactMap { line -> String? in
            guard line.hasPrefix(framePrefix) else { return nil }
            let fields = line.dropFirst(framePrefix.count).split(separator: " ")
            guard fields.count == 2, let offset = UInt64(fields[1], radix: 16),
                URL(fileURLWithPath: String(fields[0])).resolvingSymlinksInPath().path == runnerPath
            else { return nil }
            return "0x" + String(offset, radix: 16)
        }
        guard !offsets.isEmpty, offsets.count <= 64, let symbolizer else { return nil }
        let process = Process()
        process.executableURL = symbolizer
        process.arguments = ["--obj=\(runnerPath)", "--functions=none"] + offsets
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard let line = output.split(separator: "\n").first(where: { $0.contains("/Exercises/") }),
            let start = line.range(of: "Exercises/", options: .backwards)
        else { return nil }
        return String(line[start.lowerBound...])
    }

    /// llvm-symbolizer beside `swift` on the PATH, or on the PATH itself.
    static let symbolizer: URL? = {
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for folder in folders {
            let candidate = URL(fileURLWithPath: folder).appendingPathComponent("llvm-symbolizer")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }()
}

/// The grader's own copy of a runner: its bytes are kept, and once the file
/// on disk differs from them (rewritten, replaced, removed), it stays
/// tampered with for the rest of the grading. The folder goes with the last
/// grader that uses it.
final class RunnerCopy: @unchecked Sendable {
    let folder: URL
    let executable: URL
    private let bytes: Data
    private let lock = NSLock()
    private var tampered = false

    init(of runner: URL, runnableByOthers: Bool) throws {
        bytes = try Data(contentsOf: runner)
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("d3pm-runner-\(UUID().uuidString)")
        // Others (the student user) may run the copy but not read it: a runner that cannot read its
        // executable is not dumpable from its start, so another runner of the same user cannot open
        // its memory before its lock-down, nor copy a runner to run it unwatched.
        try FileManager.default.createDirectory(
            at: folder, withIntermediateDirectories: true,
            attributes: [.posixPermissions: runnableByOthers ? 0o711 : 0o700])
        executable = folder.appendingPathComponent(runner.lastPathComponent)
        try bytes.write(to: executable)
        try FileManager.default.setAttributes(
            [.posixPermissions: runnableByOthers ? 0o511 : 0o500], ofItemAtPath: executable.path)
    }

    /// Whether the copy is as written; once it was not, never again.
    func isIntact() -> Bool {
        lock.withLock {
            guard !tampered else { return false }
            if FileManager.default.contents(atPath: executable.path) != bytes { tampered = true }
            return !tampered
        }
    }

    deinit { try? FileManager.default.removeItem(at: folder) }
}
