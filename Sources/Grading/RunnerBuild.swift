import Foundation

/// Where the runner executables are, and how to bring them up to date.
///
/// The grader never links the student's code: it builds the runner product
/// (`swift build --product student-runner`) before grading, with SwiftPM's
/// explicit target dependency import check set to `error`, so that an
/// exercise file importing a module `Student` does not declare
/// (`import Solutions`, say) is refused on every build, fresh or not; and it
/// refuses what ``StudentCodeAudit`` finds (another module of the kit, an
/// attribute that names or places symbols, a symbol not Swift's for module
/// `Student`, a constructor).
public struct RunnerBuild: Sendable {
    /// The folder of the build products, where the runners are.
    public var products: URL
    /// The package to build, if these products came from one.
    public var packageRoot: URL?
    /// The most seconds a build of the runner may take: a file of
    /// expressions the type checker takes seconds each to give up on would
    /// otherwise hold the grader (and a batch's every later submission) for
    /// hours.
    public var timeLimit: Double = 600
    /// The most bytes of the build's log that are kept (the rest is read and dropped).
    static let logLimit = 4 << 20

    /// The products beside `executable` (the grade or d3pm executable), and
    /// the package at `packageRoot` if it has a Package.swift.
    public init(besides executable: URL, packageRoot: URL?) {
        products = executable.resolvingSymlinksInPath().deletingLastPathComponent()
        self.packageRoot = packageRoot.flatMap { root in
            FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) ? root : nil
        }
    }

    /// The products of the package at `packageRoot` in its default build
    /// folder (`.build/debug` or `.build/release`), built or not yet.
    public init(package packageRoot: URL, configuration: String = "debug") {
        products = packageRoot.appendingPathComponent(".build/\(configuration)")
        self.packageRoot = packageRoot
    }

    /// The runner executable of `implementation`.
    public func runner(_ implementation: Implementation) -> URL {
        products.appendingPathComponent(implementation.runnerProduct)
    }

    /// What a build of the runner said, when it failed.
    public struct Failure: Error, CustomStringConvertible {
        /// The compiler's errors and notes, with paths from the package root.
        public let errors: String
        /// Whether the build was stopped at ``RunnerBuild/timeLimit``.
        public var timedOut = false
        public var description: String { errors }

        public init(errors: String, timedOut: Bool = false) {
            self.errors = errors
            self.timedOut = timedOut
        }
    }

    /// Builds `implementation`'s runner in the configuration of these
    /// products (debug or release). Throws a ``Failure`` with the compiler's
    /// errors when the code does not compile; does nothing without a package.
    public func build(_ implementation: Implementation) throws {
        guard let packageRoot else {
            guard FileManager.default.isExecutableFile(atPath: runner(implementation).path) else {
                throw GradingError.noRunner(
                    "no \(implementation.runnerProduct) beside the grader and no package to build it from")
            }
            return
        }
        if implementation == .student {
            let problems = StudentCodeAudit.sourceProblems(
                in: packageRoot.appendingPathComponent("Exercises"), root: packageRoot)
            guard problems.isEmpty else { throw Failure(errors: problems.prefix(60).joined(separator: "\n")) }
        }
        let configuration = products.lastPathComponent
        // .build/debug is a link to .build/<triple>/debug: the build folder is above either.
        let resolved = products.resolvingSymlinksInPath()
        let scratch =
            resolved == products && products.deletingLastPathComponent().lastPathComponent == ".build"
            ? products.deletingLastPathComponent() : resolved.deletingLastPathComponent().deletingLastPathComponent()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "swift", "build", "--package-path", packageRoot.path, "--scratch-path", scratch.path,
            "-c", configuration == "release" ? "release" : "debug", "--product", implementation.runnerProduct,
            "--explicit-target-dependency-import-check", "error",
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let log = BoundedLog(limit: Self.logLimit)
        let reader = Thread { log.read(from: pipe.fileHandleForReading) }
        reader.start()
        let deadline = Date().addingTimeInterval(timeLimit)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            Self.stop(process)
            log.waitUntilRead(atMost: 10)
            throw Failure(
                errors: "error: the build of the exercises took longer than \(Int(timeLimit)) s and was stopped. "
                    + "The type checker can take seconds on one long expression of literals and operators "
                    + "before it gives up: split such expressions, and give their literals a type.",
                timedOut: true)
        }
        process.waitUntilExit()
        log.waitUntilRead()
        guard process.terminationStatus == 0 else {
            throw Failure(errors: Self.diagnostics(String(decoding: log.bytes, as: UTF8.self), root: packageRoot))
        }
        #if os(Linux)
            if implementation == .student {
                let objects = StudentCodeAudit.objectFiles(
                    in: products.resolvingSymlinksInPath().appendingPathComponent("Student.build"))
                let refused = try StudentCodeAudit.refusedSymbols(inObjects: objects)
                guard refused.isEmpty else {
                    throw Failure(
                        errors: "error: the exercises define symbols that are not Swift's for their module: "
                            + refused.prefix(10).joined(separator: ", ")
                            + " (only the compiler's own attributes could name them; the grader refuses them)")
                }
                let sections = try StudentCodeAudit.refusedSections(inObjects: objects)
                guard sections.isEmpty else {
                    throw Failure(
                        errors: "error: the exercises' objects have sections of code that would run by itself, "
                            + "before or beside the checks: " + sections.prefix(10).joined(separator: ", ")
                            + " (only the compiler's own attributes could make them; the grader refuses them)")
                }
            }
        #endif
    }

    /// Kills a build and, on Linux, every process it started (the compiler
    /// jobs would otherwise run on), deepest first.
    static func stop(_ process: Process) {
        let root = process.processIdentifier
        if getpgid(root) == root { kill(-root, SIGKILL) }
        for _ in 0..<3 {
            let below = ProcessSweep.descendants(of: root)
            for entry in below.reversed() { kill(entry.pid, SIGKILL) }
            kill(root, SIGKILL)
            if below.isEmpty { break }
        }
        process.waitUntilExit()
    }

    /// A build's log, read on its own thread to the end of the pipe, of
    /// which the first `limit` bytes are kept.
    final class BoundedLog: @unchecked Sendable {
        private let limit: Int
        private let done = DispatchSemaphore(value: 0)
        private(set) var bytes = Data()

        init(limit: Int) { self.limit = limit }

        func read(from handle: FileHandle) {
            while let chunk = try? handle.read(upToCount: 1 << 16), !chunk.isEmpty {
                if bytes.count < limit { bytes.append(chunk.prefix(limit - bytes.count)) }
            }
            done.signal()
        }

        /// Waits for the end of the pipe: every writer closed it or died.
        func waitUntilRead() { done.wait() }

        /// Waits for the end of the pipe for at most `seconds` (a process
        /// that outlived its build, where it cannot be found, may hold it).
        func waitUntilRead(atMost seconds: Double) { _ = done.wait(timeout: .now() + seconds) }
    }

    /// The errors and notes of a build log with the source lines they show,
    /// paths from the package root, at most 60 lines.
    static func diagnostics(_ log: String, root: URL) -> String {
        var kept: [String] = []
        var seen = Set<String>()
        var keeping = false, inDiagnostic = false
        for line in log.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let shortened = line.replacingOccurrences(of: root.path + "/", with: "")
            let isHeader =
                line.contains("error:") || line.contains("note:") || (line.contains("warning: ") && inDiagnostic)
            if isHeader && !line.hasPrefix("[") && !line.contains("command failed with exit code") {
                inDiagnostic = true
                // The compiler repeats a diagnostic for each job that meets it: keep the first.
                keeping =
                    line.hasPrefix(" ") || line.hasPrefix("\t") || line.contains("|")
                    ? keeping : seen.insert(shortened).inserted
                if keeping { kept.append(shortened) }
            } else if inDiagnostic, line.range(of: #"^\s*\d*\s*\|"#, options: .regularExpression) != nil {
                if keeping { kept.append(shortened) }
            } else {
                inDiagnostic = false
            }
        }
        if kept.contains(where: { $0.contains("imports another target") || $0.contains("no such module") }) {
            kept.append(
                "note: \(StudentCodeAudit.importRule): the grader refuses any other module of the kit."
            )
        }
        if kept.isEmpty { kept = log.split(separator: "\n").suffix(20).map(String.init) }
        var unique: [String] = []
        for line in kept where unique.last != line { unique.append(line) }
        return unique.prefix(60).joined(separator: "\n")
    }
}
