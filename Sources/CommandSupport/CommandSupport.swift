import ArgumentParser
import Checks
import D3PM
import Foundation
import Grading
import Plotting

/// A command that could not do its job, for a reason other than how it was
/// called (for those, `ValidationError` adds the usage).
public struct CommandFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The `--solutions` flag of every command that runs the exercise functions.
public struct SolutionsOption: ParsableArguments {
    @Flag(help: "Use the reference solutions (Solutions/) instead of your exercises (Exercises/).")
    public var solutions = false

    public init() {}

    /// The implementation the flag selects.
    public var implementation: Implementation { solutions ? .solutions : .student }

    public func validate() throws {
        if solutions && !Edition.hasSolutions {
            throw ValidationError("this is the student edition of the kit: it has no reference solutions (--solutions)")
        }
    }
}

/// Which edition of the kit this is: the full kit has Solutions/, the
/// student edition (`grade package student`) does not.
public enum Edition {
    public static var hasSolutions: Bool {
        FileManager.default.fileExists(atPath: packageRoot.appendingPathComponent("Solutions").path)
    }
}

/// The kit's folder, from where this file was compiled: the grader builds
/// the runners there.
public let packageRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

extension RunnerBuild {
    /// The runners beside the running executable, built from this package.
    public static var current: RunnerBuild {
        RunnerBuild(
            besides: Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0]),
            packageRoot: CommandSupport.packageRoot)
    }
}

extension DisplayMode: ExpressibleByArgument {}
extension Corruption: ExpressibleByArgument {}
extension NoiseSchedule: ExpressibleByArgument {}

/// An output folder, checked before any work: it is created if missing, and
/// a command that cannot write there says so in one line naming the folder.
public enum OutputFolder {
    /// The folder at `path`, ready for writing.
    /// - Throws: ``CommandFailure`` saying what is wrong ("output/samples is a file").
    @discardableResult
    public static func prepare(_ path: String) throws -> URL {
        let url = URL(fileURLWithPath: path)
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), !isFolder.boolValue {
            throw CommandFailure("\(path) is a file, not a folder: choose another output folder")
        }
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw CommandFailure("cannot create the folder \(path): \(reason(error))")
        }
        let probe = url.appendingPathComponent(".d3pm-write-test-\(getpid())")
        guard FileManager.default.createFile(atPath: probe.path, contents: Data()) else {
            throw CommandFailure("\(path) is not writable: choose another output folder or change its permissions")
        }
        try? FileManager.default.removeItem(at: probe)
        return url
    }

    /// The underlying system message of a Foundation error, in a few words.
    public static func reason(_ error: Error) -> String {
        let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
        return underlying.map { String(cString: strerror(Int32($0.code))) } ?? (error as NSError).localizedDescription
    }
}

/// Whether the student's exercises pass, asked of the grader's runner (the
/// student's code may hold stubs, which would end this process).
public enum ExerciseGate {
    /// The exercises among `exercises` that do not pass yet, with their status.
    /// - Throws: ``CommandFailure`` with the compiler's errors when the exercises do not compile.
    public static func pending(_ exercises: [ExerciseInfo]) throws -> [ExerciseReport] {
        ProcessSweep.becomeSubreaper()
        let build = RunnerBuild.current
        do {
            try build.build(.student)
        } catch let failure as RunnerBuild.Failure {
            throw CommandFailure("Your exercises do not compile:\n\(failure.errors)")
        }
        let grader = try Grader(runner: build.runner(.student), seed: Catalog.defaultSeed, timeout: 20)
        let outcomes = try grader.grade(exercises.flatMap(\.checks))
        return GradeReport(implementation: .student, seed: Catalog.defaultSeed, outcomes: outcomes).exercises.filter {
            $0.status != .passed
        }
    }
}
