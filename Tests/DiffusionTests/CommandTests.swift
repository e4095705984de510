import Diffusion
import Foundation
import Testing

/// The d3pm commands run end to end, as a student runs them.
@Suite("The d3pm command", .serialized)
struct CommandTests {
    static var productsFolder: URL {
        if let bundle = Bundle.allBundles.first(where: { $0.bundlePath.hasSuffix(".xctest") }) {
            return bundle.bundleURL.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func d3pm(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = Self.productsFolder.appendingPathComponent("d3pm")
        process.arguments = arguments
        process.currentDirectoryURL = Self.root
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test(arguments: [
        (["train", "--epochs", "0"], "--epochs must be at least 1"),
        (["train", "--learning-rate=-1"], "--learning-rate must be a positive number"),
        (["sample", "--labels", "3,x"], "'x' is not a digit"),
        (["probe", "--t", "0,300"], "--t must list steps between 1 and 200"),
        (["sample", "--guidance", "1,-2"], "'-2' is not a weight w >= 0"),
        (["eval", "--steps", "20,0"], "--steps: '0' in '20,0' is not valid"),
        (["train", "--label-dropout", "1"], "--label-dropout must lie in [0, 1)"),
        (
            ["sample", "--checkpoint", "/nonexistent/c.safetensors", "--solutions"],
            "no checkpoint at /nonexistent/c.safetensors"
        ),
    ])
    func badValuesAreRejectedWithAClearMessage(_ arguments: [String], _ message: String) throws {
        let run = try d3pm(arguments)
        #expect(run.status != 0)
        #expect(run.output.contains(message), "output: \(run.output)")
    }

    @Test func trainResumeSampleAndEvalWriteTheirFiles() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("d3pm-commands-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let train = folder.appendingPathComponent("train"), samples = folder.appendingPathComponent("samples")
        let common = [
            "--solutions", "--images", "64", "--batch-size", "16", "--output", train.path, "--checkpoint-every", "2",
        ]
        let first = try d3pm(["train", "--max-steps", "3"] + common)
        #expect(first.status == 0, "\(first.output)")
        let again = try d3pm(["train", "--max-steps", "3"] + common)
        #expect(again.status != 0 && again.output.contains("already holds a checkpoint"))
        let resumed = try d3pm(["train", "--max-steps", "5", "--resume"] + common)
        #expect(resumed.status == 0 && resumed.output.contains("Resuming"), "\(resumed.output)")
        let log = try String(contentsOf: train.appendingPathComponent("loss.csv"), encoding: .utf8).split(
            separator: "\n")
        #expect(
            log.count == 6 && log.dropFirst().map { $0.prefix { $0 != "," } } == ["1", "2", "3", "4", "5"],
            "one row per step: \(log)")
        let sample = try d3pm([
            "sample", "--solutions", "--checkpoint", train.appendingPathComponent("checkpoint.safetensors").path,
            "--count", "4", "--output", samples.path,
        ])
        #expect(sample.status == 0, "\(sample.output)")
        for name in ["samples.npy", "labels.npy"]
            + (sample.output.contains("No pictures") ? [] : ["samples.png", "chain.png", "chain.gif"])
        {
            #expect(
                FileManager.default.fileExists(atPath: samples.appendingPathComponent(name).path), "missing \(name)")
        }
        let npy = try Data(contentsOf: samples.appendingPathComponent("samples.npy"))
        #expect(npy.prefix(6) == Data([0x93] + Array("NUMPY".utf8)) && npy.count == 128 + 4 * 28 * 28)
        let guided = try d3pm([
            "sample", "--solutions", "--checkpoint", train.appendingPathComponent("checkpoint.safetensors").path,
            "--guidance", "1", "--output", samples.path,
        ])
        #expect(guided.status != 0 && guided.output.contains("trained without label dropout"), "\(guided.output)")
    }

    @Test func guidanceSweepsWriteTheirFigureAndEvalMeasuresEveryPair() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("d3pm-guidance-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let train = folder.appendingPathComponent("train"), samples = folder.appendingPathComponent("samples")
        let checkpoint = train.appendingPathComponent("checkpoint.safetensors").path
        let trained = try d3pm([
            "train", "--solutions", "--images", "32", "--batch-size", "16", "--max-steps", "2", "--label-dropout",
            "0.5",
            "--transition", "absorbing", "--schedule", "inverse", "--output", train.path,
        ])
        #expect(trained.status == 0, "\(trained.output)")
        let swept = try d3pm([
            "sample", "--solutions", "--checkpoint", checkpoint, "--count", "3", "--steps", "5", "--guidance", "0,2",
            "--output", samples.path,
        ])
        #expect(swept.status == 0, "\(swept.output)")
        for name in ["guidance-w0.npy", "guidance-w2.npy", "labels.npy"]
            + (swept.output.contains("No picture") ? [] : ["guidance.png"])
        {
            #expect(
                FileManager.default.fileExists(atPath: samples.appendingPathComponent(name).path), "missing \(name)")
        }
        let classifier = folder.appendingPathComponent("classifier.safetensors")
        try DigitClassifier(seed: 1).save(to: classifier, testAccuracy: 0.1)
        let evaluation = folder.appendingPathComponent("eval")
        let evaluated = try d3pm([
            "eval", "--solutions", "--checkpoint", checkpoint, "--no-bound", "--classifier", classifier.path,
            "--samples-per-digit", "2", "--steps", "3,6", "--guidance", "0,1", "--output", evaluation.path,
        ])
        #expect(evaluated.status == 0, "\(evaluated.output)")
        #expect(evaluated.output.contains("Fréchet distance floor"), "\(evaluated.output)")
        let csv = try String(contentsOf: evaluation.appendingPathComponent("quality.csv"), encoding: .utf8)
            .split(separator: "\n")
        #expect(csv.count == 5, "a header and one row per (S, w): \(csv)")
        #expect(
            csv.dropFirst().map { $0.split(separator: ",").prefix(3).joined(separator: ",") } == [
                "0,3,20", "1,3,20", "0,6,20", "1,6,20",
            ])
        let tooMany = try d3pm([
            "eval", "--solutions", "--checkpoint", checkpoint, "--no-bound", "--classifier", classifier.path,
            "--steps", "300", "--output", evaluation.path,
        ])
        #expect(
            tooMany.status != 0 && tooMany.output.contains("--steps: 300 is more than the checkpoint's T = 200"),
            "\(tooMany.output)")
        let again = try d3pm([
            "eval", "--solutions", "--checkpoint", checkpoint, "--no-bound", "--classifier", classifier.path,
            "--samples-per-digit", "2", "--steps", "3", "--guidance", "2", "--output", evaluation.path,
        ])
        #expect(again.status == 0 && again.output.contains("with 4 earlier rows"), "\(again.output)")
        let merged = try String(contentsOf: evaluation.appendingPathComponent("quality.csv"), encoding: .utf8)
            .split(separator: "\n")
        #expect(
            merged.dropFirst().map { $0.split(separator: ",").prefix(2).joined(separator: ",") } == [
                "0,3", "1,3", "0,6", "1,6", "2,3",
            ], "measurements of one checkpoint accumulate: \(merged)")
        if !evaluated.output.contains("No plots") {
            for name in ["accuracy-vs-guidance.png", "distance-vs-guidance.png", "accuracy-vs-steps.png"] {
                #expect(
                    FileManager.default.fileExists(atPath: evaluation.appendingPathComponent(name).path),
                    "missing \(name)")
            }
        }
    }
}
