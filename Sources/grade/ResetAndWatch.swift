import ArgumentParser
import Checks
import CommandSupport
import Foundation
import Grading

extension Grade {
    /// Puts an exercise file back as shipped.
    struct Reset: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Restore an exercise file to its shipped stub (asks first).")

        @Argument(help: "exercise1 ... exercise7.")
        var exercise: String

        @Flag(name: .shortAndLong, help: "Do not ask for confirmation.")
        var yes = false

        func run() throws {
            guard let exercise = Catalog.exercise(named: exercise) else {
                throw ValidationError(
                    "'\(exercise)' is not an exercise: use exercise1 ... exercise\(Catalog.exercises.count)")
            }
            let name = URL(fileURLWithPath: exercise.file).lastPathComponent
            guard let stub = Bundle.module.url(forResource: name, withExtension: "stub", subdirectory: "Stubs") else {
                throw ValidationError("the shipped copy of \(name) is missing from this build")
            }
            let target = try packageRoot().appendingPathComponent(exercise.file)
            if !yes {
                print(
                    "This replaces \(exercise.file) with the shipped stub; your code in it will be lost. Continue? [y/N] ",
                    terminator: "")
                guard let answer = readLine(), ["y", "yes"].contains(answer.lowercased()) else {
                    print("Nothing changed.")
                    return
                }
            }
            try Data(contentsOf: stub).write(to: target, options: .atomic)
            print("Restored \(exercise.file).")
        }
    }

    /// Re-grades the exercise in progress whenever an exercise file changes.
    struct Watch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-grade the exercise you are on whenever you save a file in Exercises/ (Ctrl-C to stop).")

        @Option(parsing: .unconditional, help: "Seconds between looks at the files.")
        var interval: Double = 0.5

        @Option(parsing: .unconditional, help: "Stop after this many gradings (for scripts and tests; default: never).")
        var limit: Int?

        func validate() throws {
            guard interval > 0 else { throw ValidationError("--interval must be positive, got \(interval)") }
        }

        func run() throws {
            let root = try packageRoot()
            let folder = root.appendingPathComponent("Exercises")
            var last: [String: Date] = [:]
            var gradings = 0
            var previous: String?
            emit("Watching \(folder.path). Save a file to re-grade; Ctrl-C to stop.")
            while limit.map({ gradings < $0 }) ?? true {
                let stamps = try modificationDates(in: folder)
                if stamps != last {
                    last = stamps
                    gradings += 1
                    try regrade(root: root, previous: &previous)
                }
                Thread.sleep(forTimeInterval: interval)
            }
        }

        func modificationDates(in folder: URL) throws -> [String: Date] {
            let files = try FileManager.default.contentsOfDirectory(
                at: folder, includingPropertiesForKeys: [.contentModificationDateKey])
            var stamps: [String: Date] = [:]
            for file in files where file.pathExtension == "swift" {
                stamps[file.lastPathComponent] = try file.resourceValues(forKeys: [.contentModificationDateKey])
                    .contentModificationDate
            }
            return stamps
        }

        /// Grades every exercise and shows the first one not yet passing; says
        /// so when the one shown last time now passes.
        func regrade(root: URL, previous: inout String?) throws {
            emit("\u{1B}[2J\u{1B}[H", newline: false)
            emit("[\(Date().formatted(date: .omitted, time: .standard))] building and grading...")
            let grader = Bundle.main.executableURL!.path
            let list = try runProcess(grader, ["all", "--format", "json", "--no-figures"], in: root, capture: true)
            guard let report = try? JSONDecoder().decode(GradeReport.self, from: Data(list.output.utf8)) else {
                emit(list.output)
                return
            }
            if let errors = report.exercises.first(where: { $0.status == .doesNotCompile })?.checks.first?.message {
                emit("Your code does not compile yet:\n")
                emit(errors)
                return
            }
            let current = report.exercises.first { $0.status != .passed }?.id
            if let previous, previous != current,
                report.exercises.first(where: { $0.id == previous })?.status == .passed
            {
                emit("\(previous) passes. Well done!\n")
            }
            previous = current
            guard let current else {
                emit("Every exercise passes. Train your model: swift run -c release d3pm train")
                return
            }
            _ = try runProcess(grader, [current, "--no-build"], in: root, capture: false)
        }
    }
}

/// The kit's folder: the nearest folder upwards holding Package.swift and Exercises/.
func packageRoot() throws -> URL {
    var folder = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    for _ in 0..<8 {
        if FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path),
            FileManager.default.fileExists(atPath: folder.appendingPathComponent("Exercises").path)
        {
            return folder
        }
        folder.deleteLastPathComponent()
    }
    throw ValidationError("run this from the kit's folder (the one with Package.swift and Exercises/)")
}

/// Runs a program, with its output captured or passed through.
func runProcess(_ executable: String, _ arguments: [String], in folder: URL, capture: Bool) throws -> (
    status: Int32, output: String
) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.currentDirectoryURL = folder
    let pipe = Pipe()
    if capture {
        process.standardOutput = pipe
        process.standardError = pipe
    }
    try process.run()
    let data = capture ? pipe.fileHandleForReading.readDataToEndOfFile() : Data()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Writes to the standard output at once (no buffering), so that the
/// watcher's lines and the grader's output it starts arrive in order.
func emit(_ text: String, newline: Bool = true) {
    FileHandle.standardOutput.write(Data((text + (newline ? "\n" : "")).utf8))
}
