import Foundation
import Grading

/// Which implementation `swift test` checks: the student's exercises by
/// default, the reference solutions with `D3PM_SOLUTIONS=1 swift test`.
public enum TestConfiguration {
    public static var implementation: Implementation {
        let value = ProcessInfo.processInfo.environment["D3PM_SOLUTIONS"] ?? ""
        return ["1", "true", "yes"].contains(value.lowercased()) ? .solutions : .student
    }

    /// Whether the maintainer's check that every shipped stub fails is on
    /// (`D3PM_CHECK_STUBS=1`, set by CI; a student who has started the
    /// exercises has no stubs left to check).
    public static var checksStubs: Bool { ProcessInfo.processInfo.environment["D3PM_CHECK_STUBS"] == "1" }

    /// Whether the tests that build a copy of the kit run (`D3PM_SLOW_TESTS=1`, set by CI).
    public static var runsSlowTests: Bool { ProcessInfo.processInfo.environment["D3PM_SLOW_TESTS"] == "1" }

    /// The folder of the build products: `grade` and the runners sit beside the test bundle.
    public static var productsFolder: URL {
        if let bundle = Bundle.allBundles.first(where: { $0.bundlePath.hasSuffix(".xctest") }) {
            return bundle.bundleURL.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }

    /// The package's folder.
    public static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()

    /// A new empty temporary folder.
    public static func temporaryFolder(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("d3pm-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// The `grade` executable, run as a student or CI runs it (with the runners
/// the test build made: `--no-build`).
public struct GradeCommand {
    public struct Run {
        public let status: Int32
        public let output: Data
        public var text: String { String(decoding: output, as: UTF8.self) }
    }

    public static func run(_ arguments: [String], build: Bool = false) throws -> Run {
        let process = Process()
        process.executableURL = TestConfiguration.productsFolder.appendingPathComponent("grade")
        process.arguments = arguments + (build ? [] : ["--no-build"])
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: data)
    }
}
