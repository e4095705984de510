import Checks
import Foundation
import Grading
import KitTestSupport
import Testing

/// The course editions, built and graded for real in temporary folders: the
/// student edition and its GitHub Classroom workflow, Gradescope's
/// autograder in a simulated `/autograder`, and batch grading. Each builds a
/// copy of the kit (a few minutes in all), so they run with
/// `D3PM_SLOW_TESTS=1` (CI sets it).
@Suite("Course deployment", .serialized, .enabled(if: TestConfiguration.runsSlowTests, "set D3PM_SLOW_TESTS=1"))
struct DeploymentTests {
    static let stubNames = Catalog.exercises.map { URL(fileURLWithPath: $0.file).lastPathComponent }

    /// The reference solutions as a student would submit them.
    static func writeSolutions(to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for name in stubNames {
            let solution = try String(
                contentsOf: TestConfiguration.packageRoot.appendingPathComponent("Solutions/\(name)"), encoding: .utf8)
            try solution.replacingOccurrences(of: "extension ReferenceSolutions", with: "extension StudentExercises")
                .write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
    }

    @Test func theStudentEditionBuildsGradesItsStubsAndRunsItsClassroomWorkflow() throws {
        let edition = try TestConfiguration.temporaryFolder("edition")
        defer { try? FileManager.default.removeItem(at: edition) }
        try FileManager.default.removeItem(at: edition)
        #expect(try GradeCommand.run(["package", "student", "--output", edition.path], build: true).status == 0)
        #expect(!FileManager.default.fileExists(atPath: edition.appendingPathComponent("Solutions").path))
        // No three consecutive lines of a reference solution's code are anywhere in the edition.
        func codeLines(_ text: String) -> [String] {
            text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                $0.count > 8 && !$0.hasPrefix("//")
            }
        }
        let editionFiles = try shell("find . -name '*.swift' -not -path './.build/*'", in: edition).split(
            separator: "\n")
        var editionTriples = Set<[String]>()
        for file in editionFiles {
            let lines = codeLines(try String(contentsOf: edition.appendingPathComponent(String(file)), encoding: .utf8))
            for start in lines.indices.dropLast(2) { editionTriples.insert(Array(lines[start..<(start + 3)])) }
        }
        for name in Self.stubNames {
            let stub = Set(
                codeLines(
                    try String(
                        contentsOf: TestConfiguration.packageRoot.appendingPathComponent("Exercises/\(name)"),
                        encoding: .utf8)))
            let solution = codeLines(
                try String(
                    contentsOf: TestConfiguration.packageRoot.appendingPathComponent("Solutions/\(name)"),
                    encoding: .utf8))
            for start in solution.indices.dropLast(2) {
                let triple = Array(solution[start..<(start + 3)])
                guard !triple.allSatisfy(stub.contains) else { continue }
                #expect(!editionTriples.contains(triple), "the edition holds Solutions/\(name)'s lines: \(triple)")
            }
        }

        _ = try shell("swift build --product grade 2>&1", in: edition)
        let grade = edition.appendingPathComponent(".build/debug/grade")
        let stubs = try run(grade, ["all", "--format", "json", "--no-figures"], in: edition)
        let report = try JSONDecoder().decode(GradeReport.self, from: Data(stubs.output.utf8))
        #expect(stubs.status != 0 && report.score == 0)
        #expect(report.exercises.flatMap(\.checks).allSatisfy { $0.status == .notImplemented })
        let refused = try run(grade, ["all", "--solutions"], in: edition)
        #expect(refused.status != 0 && refused.output.contains("student edition"))

        // GitHub Classroom: one command per exercise, worth its points; each fails on the stubs and passes on the solutions.
        let json = try shell(
            "python3 -c 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))' .github/workflows/classroom.yml",
            in: edition)
        let workflow = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let jobs = try #require(workflow["jobs"] as? [String: Any])
        let steps = try #require((jobs["run-autograding-tests"] as? [String: Any])?["steps"] as? [[String: Any]])
        let tests = steps.compactMap { $0["with"] as? [String: Any] }.filter { $0["command"] != nil }
        #expect(tests.count == Catalog.exercises.count)
        #expect(
            tests.reduce(0) { $0 + (($1["max-score"] as? Int) ?? 0) } == Catalog.checks.reduce(0) { $0 + $1.points })
        for test in tests {
            let command = try #require(test["command"] as? String)
            #expect(try shellStatus(command, in: edition) != 0, "\(command) passed the stubs")
        }
        try Self.writeSolutions(to: edition.appendingPathComponent("Exercises"))
        for test in tests {
            let command = try #require(test["command"] as? String)
            #expect(try shellStatus(command, in: edition) == 0, "\(command) failed the solutions")
        }
    }

    @Test(.enabled(if: getuid() == 0, "Gradescope runs the autograder as root"))
    func gradescopesAutograderGradesSubmissionsAndContainsThem() throws {
        let root = try TestConfiguration.temporaryFolder("autograder")
        defer { try? FileManager.default.removeItem(at: root) }
        let source = root.appendingPathComponent("source"), submission = root.appendingPathComponent("submission")
        for folder in [source, submission, root.appendingPathComponent("results")] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
        #expect(try GradeCommand.run(["package", "gradescope", "--output", root.path], build: true).status == 0)
        _ = try shell(
            "python3 -m zipfile -e '\(root.path)/autograder.zip' . && chmod +x setup.sh run_autograder scripts/*.sh",
            in: source)
        let environment = "AUTOGRADER_ROOT='\(root.path)'"
        #expect(try shellStatus("\(environment) bash setup.sh > setup.log 2>&1", in: source) == 0)

        func grade() throws -> [String: Any] {
            _ = try shell("\(environment) bash '\(source.path)/run_autograder'", in: root)
            let data = try Data(contentsOf: root.appendingPathComponent("results/results.json"))
            return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
        func clearSubmission() throws {
            for name in try FileManager.default.contentsOfDirectory(atPath: submission.path) {
                try FileManager.default.removeItem(at: submission.appendingPathComponent(name))
            }
        }
        let maximum = Double(Catalog.checks.reduce(0) { $0 + $1.points })

        try Self.writeSolutions(to: submission.appendingPathComponent("Exercises"))
        let full = try grade()
        #expect(full["score"] as? Double == maximum)
        #expect((full["tests"] as? [[String: Any]])?.count == Catalog.checks.count)

        try clearSubmission()
        let stubs = try grade()
        #expect(stubs["score"] as? Double == 0)
        #expect(
            (stubs["tests"] as? [[String: Any]])?.allSatisfy {
                ($0["output"] as? String)?.hasPrefix("not implemented") == true
            } == true)

        try "this is not Swift\n".write(
            to: submission.appendingPathComponent(Self.stubNames[3]), atomically: true, encoding: .utf8)
        let broken = try grade()
        #expect(broken["score"] as? Double == 0)
        #expect((broken["output"] as? String)?.contains("Exercises/\(Self.stubNames[3])") == true)

        // An Exercises folder that links elsewhere (here to the solutions; as well to a file only root reads).
        try clearSubmission()
        let elsewhere = root.appendingPathComponent("elsewhere")
        try Self.writeSolutions(to: elsewhere)
        try FileManager.default.createSymbolicLink(
            at: submission.appendingPathComponent("Exercises"), withDestinationURL: elsewhere)
        #expect(try grade()["score"] as? Double == 0)

        // A submission that tries to read the kit, write the results and leave a process behind.
        try clearSubmission()
        try Self.writeSolutions(to: submission)
        let hostile = """
            import D3PM
            import Foundation
            import Tensors

            extension StudentExercises {
                public static func makeAbsorbingQOnestep(numClasses: Int, betas: Tensor) -> Tensor {
                    print("uid \\(getuid())")
                    print("source readable: \\(FileManager.default.isReadableFile(atPath: "\(source.path)/Package.swift"))")
                    print("results written: \\(FileManager.default.createFile(atPath: "\(root.path)/results/forged.json", contents: Data()))")
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: "/bin/sh")
                    process.arguments = ["-c", "setsid sh -c 'sleep 2; echo forged > \(root.path)/results/results.json' &"]
                    print("started: \\((try? process.run()) != nil)")
                    return Tensor.zeros([betas.count, numClasses + 1, numClasses + 1])
                }
            }
            """
        try hostile.write(to: submission.appendingPathComponent(Self.stubNames[5]), atomically: true, encoding: .utf8)
        let contained = try grade()
        Thread.sleep(forTimeInterval: 3)
        let after = try Data(contentsOf: root.appendingPathComponent("results/results.json"))
        #expect((try? JSONSerialization.jsonObject(with: after)) != nil, "results.json was rewritten")
        #expect(contained["score"] as? Double == maximum - 4)
        let output = (contained["tests"] as? [[String: Any]])?.compactMap { $0["output"] as? String }.joined() ?? ""
        #expect(!output.contains("uid 0") && output.contains("source readable: false"))
        #expect(output.contains("results written: false") && output.contains("started: false"))
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("results/forged.json").path))
        #expect(try shell("pgrep -u d3pm-student || true", in: root).isEmpty, "a student process outlived the grading")
    }

    @Test func batchGradingGivesEachSubmissionItsOwnScore() throws {
        let folder = try TestConfiguration.temporaryFolder("batch")
        defer { try? FileManager.default.removeItem(at: folder) }
        let submissions = folder.appendingPathComponent("submissions")
        try Self.writeSolutions(to: submissions.appendingPathComponent("alice"))
        let bob = submissions.appendingPathComponent("bob/Exercises")
        try FileManager.default.createDirectory(at: bob, withIntermediateDirectories: true)
        for name in Self.stubNames.prefix(2) {
            try FileManager.default.copyItem(
                at: submissions.appendingPathComponent("alice/\(name)"), to: bob.appendingPathComponent(name))
        }
        let carol = submissions.appendingPathComponent("carol")
        try FileManager.default.createDirectory(at: carol, withIntermediateDirectories: true)
        try "not Swift\n".write(to: carol.appendingPathComponent(Self.stubNames[0]), atomically: true, encoding: .utf8)
        // Dave links to Alice's file and leaves a FIFO, on which a copy would wait forever: both count as stubs.
        // Erin is a link to Alice's folder: not a submission.
        let dave = submissions.appendingPathComponent("dave")
        try FileManager.default.createDirectory(at: dave, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            at: dave.appendingPathComponent(Self.stubNames[0]),
            withDestinationURL: submissions.appendingPathComponent("alice/\(Self.stubNames[0])"))
        #expect(mkfifo(dave.appendingPathComponent(Self.stubNames[1]).path, 0o644) == 0)
        try FileManager.default.createSymbolicLink(
            at: submissions.appendingPathComponent("erin"),
            withDestinationURL: submissions.appendingPathComponent("alice"))
        // Frank's first function never returns: its checks time out, and are graded again alone.
        let frank = submissions.appendingPathComponent("frank")
        try Self.writeSolutions(to: frank)
        let first = frank.appendingPathComponent(Self.stubNames[0])
        let declaration = "public static func makeUniformQOnestep(numClasses: Int, betas: Tensor) -> Tensor {"
        let looping = try String(contentsOf: first, encoding: .utf8)
            .replacingOccurrences(of: declaration, with: declaration + "\n        while numClasses > 0 {}")
        #expect(looping.contains("while numClasses > 0"))
        try looping.write(to: first, atomically: true, encoding: .utf8)
        let csv = folder.appendingPathComponent("grades.csv")
        // A check takes under a tenth of a second here: 3 s is time enough, and Frank's loops cost 3 s each.
        let arguments = [
            "batch", submissions.path, "--jobs", "2", "--seed", "5", "--timeout", "3", "--output", csv.path,
        ]
        let batch = try GradeCommand.run(arguments, build: true)
        #expect(batch.status == 0)
        #expect(batch.text.contains("dave/\(Self.stubNames[0]): not a regular file"), "\(batch.text)")
        let rows = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n").map {
            $0.split(separator: ",", omittingEmptySubsequences: false)
        }
        let points = Catalog.exercises.map { $0.checks.reduce(0) { $0 + $1.points } }
        let total = points.reduce(0, +)
        #expect(rows.count == 6)
        #expect(rows[1].prefix(3).map(String.init) == ["alice", "\(total)", "\(total)"])
        #expect(
            rows[2].prefix(2 + 1 + 2).map(String.init) == [
                "bob", "\(points[0] + points[1])", "\(total)", "\(points[0])", "\(points[1])",
            ])
        #expect(rows[3].prefix(2).map(String.init) == ["carol", "0"] && rows[3].last == "does not compile")
        #expect(rows[4].prefix(2).map(String.init) == ["dave", "0"])
        #expect(rows[5].first == "frank" && rows[5][1] != "\(total)")
        #expect(
            batch.text.contains("Grading again, alone, 1 with a check that timed out or crashed beside another: frank"))
        // Resumed: nothing is graded again.
        let again = try GradeCommand.run(arguments, build: true)
        #expect(again.text.contains("5 already graded"))
    }

    @discardableResult
    func shell(_ command: String, in folder: URL) throws -> String {
        try run(URL(fileURLWithPath: "/bin/sh"), ["-c", command], in: folder).output
    }

    func shellStatus(_ command: String, in folder: URL) throws -> Int32 {
        try run(URL(fileURLWithPath: "/bin/sh"), ["-c", command + " > /dev/null 2>&1"], in: folder).status
    }

    func run(_ executable: URL, _ arguments: [String], in folder: URL) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = folder
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
