import ArgumentParser
import Checks
import CommandSupport
import Foundation
import Grading

extension Grade {
    /// Grades a folder of submissions, one subfolder each.
    struct Batch: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Grade every submission in a folder (one subfolder each) and write a CSV of the scores.",
            discussion: """
                Each submission's exercise files (at the top of its folder or in Exercises/; a missing one \
                counts as the stub) are built into a runner of its own against a shared build of the rest \
                of the kit (the student edition, in OUTPUT's folder under d3pm-batch/), and graded in a \
                grader process of its own. An interrupted batch resumes where it stopped: what has a report \
                is not graded again.
                """
        )

        @Argument(help: "The folder of submissions.")
        var folder: String

        @Option(parsing: .unconditional, help: "Submissions graded at once (builds run one at a time beside them).")
        var jobs = 2

        @Option(help: "The CSV file of scores; reports go beside it, in d3pm-batch/reports/.")
        var output = "grades.csv"

        @Option(
            parsing: .unconditional,
            help: "The seed of every submission's checks (default: drawn once per batch and kept for resuming).")
        var seed: UInt64?

        @Option(parsing: .unconditional, help: "The most seconds one check may take.")
        var timeout: Double = 10

        @Option(
            parsing: .unconditional,
            help: "The most seconds the build of one submission may take (it then does not compile).")
        var buildTimeout: Double = 300

        func validate() throws {
            guard (1...64).contains(jobs) else { throw ValidationError("--jobs must be between 1 and 64, got \(jobs)") }
            guard timeout > 0 && timeout <= 3600 else {
                throw ValidationError("--timeout must be between 0 and 3600 seconds, got \(timeout)")
            }
            guard buildTimeout >= 10 && buildTimeout <= 7200 else {
                throw ValidationError("--build-timeout must be between 10 and 7200 seconds, got \(buildTimeout)")
            }
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
                throw ValidationError("'\(folder)' is not a folder of submissions")
            }
        }

        func run() throws {
            let manager = FileManager.default
            let csv = URL(fileURLWithPath: output)
            let work = csv.deletingLastPathComponent().appendingPathComponent("d3pm-batch")
            let kit = work.appendingPathComponent("kit"), reports = work.appendingPathComponent("reports")
            let runners = work.appendingPathComponent("runners")
            try manager.createDirectory(at: reports, withIntermediateDirectories: true)
            if !manager.fileExists(atPath: kit.appendingPathComponent("Package.swift").path) {
                try? manager.removeItem(at: kit)
                print("Preparing a build of the kit for the submissions (the first one takes a minute or two)...")
                try StudentEdition.write(from: packageRoot, to: kit)
            }
            let seed = try batchSeed(in: work)
            // Folders only, not links to one: a link could lead the copies of its files anywhere.
            let submissions = try manager.contentsOfDirectory(atPath: folder).filter { name in
                var status = stat()
                return !name.hasPrefix(".") && lstat("\(folder)/\(name)", &status) == 0
                    && status.st_mode & S_IFMT == S_IFDIR
            }.sorted()
            let pending = submissions.filter {
                !manager.fileExists(atPath: reports.appendingPathComponent("\($0).json").path)
            }
            print("\(submissions.count) submissions, \(submissions.count - pending.count) already graded; seed \(seed)")

            var build = RunnerBuild(package: kit)
            build.timeLimit = buildTimeout
            // As root, the submissions' code runs as the unprivileged user, who can touch none of the batch's files.
            // Submissions' code never runs as root: as root, the batch needs the unprivileged user to run it as.
            if getuid() == 0 && getpwnam(GradescopeAutograder.studentUser) == nil {
                throw ValidationError(
                    "grade batch run as root runs the submissions' code as the user \(GradescopeAutograder.studentUser), "
                        + "who does not exist here: create it (useradd --system \(GradescopeAutograder.studentUser)), "
                        + "or run the batch as an unprivileged user")
            }
            let user = getuid() == 0 ? GradescopeAutograder.studentUser : nil
            if user != nil {
                // The build, the reports and the seed are root's alone: a submission's code reads none of them.
                try manager.setAttributes([.posixPermissions: 0o700], ofItemAtPath: work.path)
                if !Grader.runnerReadingIsRestricted {
                    print(
                        "Note: this kernel has no Landlock, so the submissions' code may read whatever "
                            + "\(GradescopeAutograder.studentUser) may: make the kit private "
                            + "(chmod 700 \(packageRoot.path)) so that it cannot read the reference solutions.")
                }
                var status = stat()
                if stat(folder, &status) == 0 && status.st_mode & 0o005 != 0 {
                    print(
                        "Note: other users, \(GradescopeAutograder.studentUser) among them, may read the submissions folder "
                            + "'\(folder)'; make it private (chmod 700) so that a submission's code cannot read the others."
                    )
                }
            } else {
                print(
                    "Note: the submissions' code runs as you, and could change this batch's files. For untrusted submissions, "
                        + "run grade batch as root with a user \(GradescopeAutograder.studentUser) "
                        + "(useradd --system \(GradescopeAutograder.studentUser)): their code then runs as that user.")
            }
            let secondsLimit = Double(Catalog.checks.count) * timeout + 120
            let grader = Bundle.main.executableURL!
            var running: [(name: String, process: Process, started: Date)] = []
            var done = submissions.count - pending.count
            let started = Date()
            let bar = BatchProgress(total: submissions.count)
            /// Waits until at most `limit` graders run, stopping any that outlives the time
            /// limit; each that ends counts as done (and moves the bar) when `counted`.
            func reap(keeping limit: Int, counted: Bool = true) {
                while running.count > limit {
                    Thread.sleep(forTimeInterval: 0.05)
                    running.removeAll { entry in
                        if entry.process.isRunning && Date().timeIntervalSince(entry.started) > secondsLimit {
                            entry.process.terminate()
                        }
                        guard !entry.process.isRunning else { return false }
                        if counted { done += 1 }
                        return true
                    }
                    if counted {
                        bar.show(done: done, since: started, finishedNow: done - (submissions.count - pending.count))
                    }
                }
            }
            func report(of name: String) -> URL { reports.appendingPathComponent("\(name).json") }
            func runner(of name: String) -> URL {
                runners.appendingPathComponent(name).appendingPathComponent("student-runner")
            }
            func startGrading(_ name: String) throws -> Process {
                let process = Process()
                process.executableURL = grader
                process.arguments =
                    [
                        "all", "--no-build", "--no-figures", "--runner", runner(of: name).path, "--seed", String(seed),
                        "--timeout", String(timeout), "--format", "json", "--output", report(of: name).path,
                    ] + (user.map { ["--runner-user", $0] } ?? [])
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                try process.run()
                return process
            }
            for name in pending {
                let report = report(of: name)
                try install(submission: URL(fileURLWithPath: folder).appendingPathComponent(name), into: kit)
                do {
                    do {
                        try build.build(.student)
                    } catch let failure as RunnerBuild.Failure where failure.timedOut && !running.isEmpty {
                        // Graders ran beside the build: it is tried again alone, where its time is its own.
                        reap(keeping: 0)
                        try build.build(.student)
                    }
                } catch let failure as RunnerBuild.Failure {
                    try writeCompileFailure(failure.errors, seed: seed, to: report)
                    done += 1
                    bar.show(done: done, since: started, finishedNow: done - (submissions.count - pending.count))
                    continue
                }
                let runner = runner(of: name)
                try? manager.removeItem(at: runner.deletingLastPathComponent())
                try manager.createDirectory(at: runner.deletingLastPathComponent(), withIntermediateDirectories: true)
                try manager.copyItem(at: build.runner(.student), to: runner)
                reap(keeping: jobs - 1)
                running.append((name, try startGrading(name), Date()))
            }
            reap(keeping: 0)
            // A check that timed out or crashed beside another submission's may have been starved of the
            // processor or of threads by that submission's code: it is graded again, alone.
            let again = jobs > 1 ? pending.filter { Self.hasCheckANeighbourCouldCause(report: report(of: $0)) } : []
            if !again.isEmpty {
                print(
                    "\nGrading again, alone, \(again.count) with a check that timed out or crashed beside another: "
                        + again.joined(separator: ", "))
                for name in again {
                    running.append((name, try startGrading(name), Date()))
                    reap(keeping: 0, counted: false)
                }
            }
            print("")
            try writeCSV(submissions: submissions, reports: reports, to: csv)
            let graded = pending.count
            if graded > 0 {
                print(
                    String(
                        format: "Graded %d submissions in %.0f s (%.1f s each); scores: %@", graded,
                        Date().timeIntervalSince(started),
                        Date().timeIntervalSince(started) / Double(graded), csv.path))
            } else {
                print("Scores: \(csv.path)")
            }
        }

        /// Whether the JSON report at `report` has a check that timed out or
        /// crashed: what another submission's code, running beside it, could
        /// have caused (a wrong value it could not).
        static func hasCheckANeighbourCouldCause(report: URL) -> Bool {
            guard let data = try? Data(contentsOf: report),
                let graded = try? JSONDecoder().decode(GradeReport.self, from: data)
            else { return false }
            return graded.exercises.contains {
                $0.checks.contains { $0.status == .timedOut || $0.status == .crashed }
            }
        }

        /// The batch's seed: given, or drawn once and kept in the work folder so that a resumed batch uses it too.
        func batchSeed(in work: URL) throws -> UInt64 {
            let file = work.appendingPathComponent("seed")
            if let seed {
                try Data(String(seed).utf8).write(to: file, options: .atomic)
                return seed
            }
            if let text = try? String(contentsOf: file, encoding: .utf8), let kept = UInt64(text) { return kept }
            let drawn = UInt64.random(in: 1...999_999)
            try Data(String(drawn).utf8).write(to: file, options: .atomic)
            return drawn
        }

        /// The submission's exercise files in the kit's Exercises/, the stubs where it has none.
        ///
        /// Only a regular file inside the submission's folder counts: a
        /// symbolic link (to another submission, or to a file only root may
        /// read, whose lines the compiler's errors would show), a FIFO (on
        /// which a copy would wait forever) or a file of more than a
        /// megabyte counts as missing, and the batch says so.
        func install(submission: URL, into kit: URL) throws {
            for exercise in Catalog.exercises {
                let name = URL(fileURLWithPath: exercise.file).lastPathComponent
                let candidates = [
                    submission.appendingPathComponent(name), submission.appendingPathComponent("Exercises/\(name)"),
                ]
                var contents: Data?
                for candidate in candidates where contents == nil {
                    switch Self.submittedFile(candidate, in: submission) {
                    case .success(let data): contents = data
                    case .failure(let refusal):
                        if let reason = refusal.reason {
                            print("\(submission.lastPathComponent)/\(candidate.lastPathComponent): \(reason)")
                        }
                    }
                }
                let data =
                    try contents ?? Data(contentsOf: kit.appendingPathComponent("Sources/grade/Stubs/\(name).stub"))
                try data.write(to: kit.appendingPathComponent(exercise.file), options: .atomic)
            }
        }

        /// Why a submitted file is not used (nil: there is none).
        struct Refusal: Error { let reason: String? }

        /// The contents of `file` if it is a regular file of at most a
        /// megabyte whose real path lies inside `submission`'s.
        static func submittedFile(_ file: URL, in submission: URL) -> Result<Data, Refusal> {
            var status = stat()
            guard lstat(file.path, &status) == 0 else { return .failure(Refusal(reason: nil)) }
            guard status.st_mode & S_IFMT == S_IFREG else {
                return .failure(
                    Refusal(reason: "not a regular file (a link, a FIFO, a folder): ignored, the stub is graded"))
            }
            let folder = submission.resolvingSymlinksInPath().path + "/"
            guard file.resolvingSymlinksInPath().path.hasPrefix(folder) else {
                return .failure(Refusal(reason: "lies outside the submission's folder: ignored, the stub is graded"))
            }
            guard status.st_size <= 1 << 20 else {
                return .failure(Refusal(reason: "larger than a megabyte: ignored, the stub is graded"))
            }
            guard let data = FileManager.default.contents(atPath: file.path) else {
                return .failure(Refusal(reason: "cannot be read: ignored, the stub is graded"))
            }
            return .success(data)
        }

        func writeCompileFailure(_ errors: String, seed: UInt64, to url: URL) throws {
            let outcomes = Catalog.checks.map { check in
                var outcome = CheckOutcome(check: check, status: .doesNotCompile)
                outcome.message = errors
                return outcome
            }
            try ReportFormat.json.render(GradeReport(implementation: .student, seed: seed, outcomes: outcomes)).write(
                to: url, options: .atomic)
        }

        /// One row per submission: its score, its points per exercise, and the exercises' statuses.
        func writeCSV(submissions: [String], reports: URL, to url: URL) throws {
            let exercises = Catalog.exercises
            var rows = ["submission,score,max_score," + exercises.map(\.id).joined(separator: ",") + ",status"]
            for name in submissions {
                let file = reports.appendingPathComponent("\(name).json")
                guard let data = try? Data(contentsOf: file),
                    let report = try? JSONDecoder().decode(GradeReport.self, from: data)
                else {
                    rows.append("\(csvField(name)),,,\(String(repeating: ",", count: exercises.count))not graded")
                    continue
                }
                let scores = exercises.map { exercise in
                    report.exercises.first { $0.exercise == exercise.number }.map { String($0.score) } ?? ""
                }
                let statuses = Set(report.exercises.map(\.status.rawValue)).sorted().joined(separator: "; ")
                rows.append(
                    "\(csvField(name)),\(report.score),\(report.maxScore),\(scores.joined(separator: ",")),\(csvField(statuses))"
                )
            }
            try Data((rows.joined(separator: "\n") + "\n").utf8).write(to: url, options: .atomic)
        }

        func csvField(_ text: String) -> String {
            text.contains(where: { ",\"\n".contains($0) })
                ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
        }
    }
}

/// A one-line progress bar for the batch, with the time left.
struct BatchProgress {
    let total: Int

    func show(done: Int, since start: Date, finishedNow: Int) {
        let width = 30, filled = total > 0 ? width * done / total : width
        let elapsed = Date().timeIntervalSince(start)
        let remaining = finishedNow > 0 ? elapsed / Double(finishedNow) * Double(total - done) : 0
        let eta =
            finishedNow > 0 ? String(format: "ETA %d:%02d", Int(remaining) / 60, Int(remaining) % 60) : "ETA --:--"
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
        FileHandle.standardOutput.write(Data("\r[\(bar)] \(done)/\(total) submissions  \(eta)   ".utf8))
    }
}
