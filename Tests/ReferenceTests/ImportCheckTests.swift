import Foundation
import Grading
import KitTestSupport
import Testing

/// The runner is built with SwiftPM's explicit target dependency import
/// check, and links nothing but Student, D3PM and Tensors: an exercise file
/// cannot reach the reference code by import, fresh build or not, nor by a
/// linker symbol, nor stand in for a library's function, nor import the
/// lock-down's module. The test builds a copy of the kit (about a minute), so it
/// runs with `D3PM_SLOW_TESTS=1` (CI sets it).
@Suite(
    "Exercises cannot reach the reference code", .enabled(if: TestConfiguration.runsSlowTests, "set D3PM_SLOW_TESTS=1"))
struct ImportCheckTests {
    @Test func importsAndLinkerSymbolsOfTheSolutionsAreRefusedAtEveryBuild() throws {
        let copy = try TestConfiguration.temporaryFolder("import-check")
        defer { try? FileManager.default.removeItem(at: copy) }
        let files = try shell(
            "git ls-files -z -- Package.swift Sources Exercises Solutions Tests Explore",
            in: TestConfiguration.packageRoot)
        for path in files.split(separator: "\0").map(String.init) {
            let target = copy.appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: TestConfiguration.packageRoot.appendingPathComponent(path), to: target)
        }
        let scratch = copy.appendingPathComponent(".build")
        let build = RunnerBuild(package: copy)
        let exercise = copy.appendingPathComponent("Exercises/Exercise1+TransitionMatrices.swift")
        let shipped = try String(contentsOf: exercise, encoding: .utf8)

        func refusal(_ source: String) throws -> String {
            try source.write(to: exercise, atomically: true, encoding: .utf8)
            do {
                try build.build(.student)
            } catch let failure as RunnerBuild.Failure {
                return failure.errors
            }
            Issue.record("the runner built with:\n\(source)")
            return ""
        }

        let importing = shipped.replacingOccurrences(of: "import D3PM", with: "import D3PM\nimport Solutions")
        // A fresh build: Solutions is not built yet.
        #expect(try refusal(importing).contains("Solutions"))
        // Once Solutions is built, the import is still refused by name (by the grader's audit, before SwiftPM's check).
        _ = try shell(
            "swift build --package-path '\(copy.path)' --scratch-path '\(scratch.path)' --target Solutions", in: copy)
        let message = try refusal(importing)
        #expect(message.contains("the grader refuses Solutions"), "\(message)")
        #expect(message.contains("may import, of the kit's modules, D3PM, Tensors and Plotting only"))
        #expect(
            try refusal(shipped.replacingOccurrences(of: "import D3PM", with: "import D3PM\nimport Checks")).contains(
                "Checks"))

        // No import: the reference function's symbol, declared by hand, is not in the runner.
        let symbol = try shell(
            "nm '\(scratch.path)/debug/Solutions.build/Exercise1+TransitionMatrices.swift.o' | grep -o '\\$s9Solutions.*cumulativeQ[^ ]*' | head -1",
            in: copy
        )
        .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!symbol.isEmpty)
        let linking =
            shipped
            + "\n@_silgen_name(\"\(symbol)\") func referenceCumulativeQ(_ q: Tensor) -> Tensor\nlet reachedForReference = referenceCumulativeQ\n"
        // Refused before the build: an exercise file may use no attribute that names a symbol.
        #expect(try refusal(linking).contains("attributes that name, place or keep symbols"))
        // Nor stand in for the C library's functions, which the runner's lock-down would then call.
        let standingIn =
            shipped + "\n@_cdecl(\"prctl\") public func prctl(_ option: Int32) -> Int32 { 0 }\n"
        #expect(try refusal(standingIn).contains("attributes that name, place or keep symbols"))
        // Swift 6.3's @c names a C symbol without an underscore (and with @export(implementation), a weak one).
        #if compiler(>=6.3)
            let cSymbol = try refusal(shipped + "\n@c public func prctl(_ option: Int32) -> Int32 { 0 }\n")
            #expect(cSymbol.contains("attributes that name, place or keep symbols"), "\(cSymbol)")
        #endif
        // Nor import the kit's modules that Student's dependencies bring along.
        let lockDown = try refusal(
            shipped.replacingOccurrences(of: "import D3PM", with: "import D3PM\nimport CProcess"))
        #expect(lockDown.contains("the grader refuses CProcess"), "\(lockDown)")

        // A file the type checker takes seconds on each expression of: the build is stopped at the time limit.
        let slowExpression =
            "[[1, 2.0, 3], [4, 5, 6.5], [7, 8, 9]].map { $0.map { $0 * 2 + 1 - 3 / 4 * 5 + 0 } }.flatMap { $0 }"
            + ".reduce(0) { $0 + $1 * 2 - 1 }"
        let slow = shipped + (0..<20).map { "\nfunc slow\($0)() { let m = \(slowExpression); _ = m }" }.joined()
        try slow.write(to: exercise, atomically: true, encoding: .utf8)
        var limited = build
        limited.timeLimit = 2
        do {
            try limited.build(.student)
            Issue.record("a build of 20 slow expressions finished within 2 s")
        } catch let failure as RunnerBuild.Failure {
            #expect(failure.errors.contains("took longer than 2 s and was stopped"), "\(failure.errors)")
        }

        // The shipped file builds: the refusals came from the attacks (and the stopped build left no lock behind).
        try shipped.write(to: exercise, atomically: true, encoding: .utf8)
        try build.build(.student)
    }

    func shell(_ command: String, in folder: URL) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.currentDirectoryURL = folder
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
