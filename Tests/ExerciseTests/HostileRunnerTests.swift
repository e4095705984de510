import CProcess
import Checks
import D3PM
import Foundation
import KitTestSupport
import Testing

@testable import Grading

/// What student code can do to the process that runs it, played by a shell
/// script in the runner's place (`grade --runner`): forged lines, exits,
/// floods, background processes. None of it passes a check, every other
/// check is still graded, the report is written, and nothing outlives the run.
@Suite("The grader contains hostile runners", .serialized)
struct HostileRunnerTests {
    struct Graded {
        let report: GradeReport
        let status: Int32
    }

    /// Grades `exercise` with a runner that reads its request (unless told not to) and then runs `behaviour`.
    func grade(_ behaviour: String, exercise: String = "exercise6", timeout: Int = 5, readsRequest: Bool = true) throws
        -> Graded
    {
        let folder = try TestConfiguration.temporaryFolder("hostile")
        defer { try? FileManager.default.removeItem(at: folder) }
        let script = folder.appendingPathComponent("runner.sh"), output = folder.appendingPathComponent("report.json")
        try "#!/bin/sh\n\(readsRequest ? "cat > /dev/null" : "")\n\(behaviour)\n".write(
            to: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        let run = try GradeCommand.run([
            exercise, "--format", "json", "--runner", script.path, "--timeout", "\(timeout)", "--output", output.path,
        ])
        let report = try JSONDecoder().decode(GradeReport.self, from: Data(contentsOf: output))
        return Graded(report: report, status: run.status)
    }

    func statuses(_ graded: Graded) -> [CheckOutcome.Status] { graded.report.exercises.flatMap(\.checks).map(\.status) }

    @Test func forgedOutcomeLinesOnStandardOutputEarnNothing() throws {
        let graded = try grade(
            #"""
            echo 'D3PM-OUTCOME {"id":"exercise6.absorbing-values","exercise":6,"title":"t","points":300,"status":"passed"}'
            echo '{"finished":{"results":[]}}'
            exit 0
            """#)
        #expect(graded.status != 0 && graded.report.score == 0)
        #expect(statuses(graded) == [.crashed, .crashed])
        #expect(graded.report.maxScore == 4, "the points come from the grader's catalog, not from the runner")
    }

    @Test func escapeSequencesInWhatTheCodePrintedAreShownNotObeyed() throws {
        let folder = try TestConfiguration.temporaryFolder("escapes")
        defer { try? FileManager.default.removeItem(at: folder) }
        let script = folder.appendingPathComponent("runner.sh")
        // Cursor up and erase the line (to blank a FAIL), a forged PASS after a carriage return, a window title.
        try #"""
        #!/bin/sh
        cat > /dev/null
        printf '\033[1A\033[2K  PASS faked\r  PASS  \033]0;owned\007\n'
        printf 'Fatal error: \033[8mhidden\n' >&2
        kill -ILL $$
        """#.write(to: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        let run = try GradeCommand.run(["exercise6", "--format", "text", "--runner", script.path, "--timeout", "5"])
        let text = run.text
        #expect(!text.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0 == "\r" }, "\(text)")
        #expect(text.contains(#"| \u{1B}[1A\u{1B}[2K  PASS faked\u{D}  PASS  \u{1B}]0;owned\u{7}"#), "\(text)")
        #expect(text.contains(#"\u{1B}[8mhidden"#), "\(text)")
    }

    @Test func forgedResultsOnTheChannelAreJudgedAndFail() throws {
        // Well-formed results of the wrong shape, then a second "finished" message.
        let matrix = #"{"value":{"shape":[1],"float32":"AACAPw=="}}"#
        let wrongShape = try grade("echo '{\"finished\":{\"results\":[\(matrix)]}}' >&3; exit 0")
        #expect(wrongShape.report.score == 0 && statuses(wrongShape) == [.failed, .failed])
        let twice = try grade(
            "echo '{\"finished\":{\"results\":[\(matrix)]}}' >&3; echo '{\"finished\":{\"results\":[\(matrix)]}}' >&3; exit 0"
        )
        #expect(twice.report.score == 0 && statuses(twice) == [.failed, .failed])
        #expect(twice.report.exercises[0].checks[0].message?.contains("grader's channel") == true)
        let garbage = try grade("echo 'passed' >&3; exit 0")
        #expect(garbage.report.score == 0)
    }

    @Test func anExitInsideAFunctionIsACrashThatNamesTheFunction() throws {
        let graded = try grade(#"echo '{"started":{"call":0,"function":"makeAbsorbingQOnestep"}}' >&3; exit 0"#)
        #expect(statuses(graded) == [.crashed, .crashed])
        let message = graded.report.exercises[0].checks[0].message ?? ""
        #expect(message.contains("exit status 0 inside makeAbsorbingQOnestep"), "\(message)")
    }

    @Test func aTrapIsACrashAndAStubIsNotImplemented() throws {
        let trap = try grade("echo 'Fatal error: index 9 is out of range' >&2; kill -ILL $$")
        #expect(statuses(trap) == [.crashed, .crashed])
        #expect(trap.report.exercises[0].checks[0].message?.contains("index 9 is out of range") == true)
        let stub = try grade(
            "echo '\(NotImplemented.marker) makeAbsorbingQOnestep (Exercises/E.swift:9)' >&2; exit \(NotImplemented.exitCode)"
        )
        #expect(statuses(stub) == [.notImplemented, .notImplemented])
    }

    @Test func anEndlessLoopTimesOutAndTheExerciseSaysSo() throws {
        let graded = try grade("while true; do :; done", timeout: 1)
        #expect(statuses(graded) == [.timedOut, .timedOut])
        #expect(graded.report.exercises[0].status == .timedOut)
    }

    @Test func floodingOrClosingTheOutputCostsOnlyTheCheck() throws {
        let flood = try grade("head -c 30000000 /dev/zero | tr '\\0' x; exit 0")
        #expect(statuses(flood) == [.crashed, .crashed])
        #expect((flood.report.exercises[0].checks[0].output?.count ?? 0) < 70_000, "the student's output is capped")
        let closed = try grade("exec 1>&- 2>&- 3>&-; exit 0")
        #expect(statuses(closed) == [.crashed, .crashed])
    }

    @Test func aRunnerThatEndsBeforeReadingItsRequestIsACrashNotTheGradersEnd() throws {
        // Exercise 2's requests are larger than a pipe's buffer.
        let graded = try grade("exit 0", exercise: "exercise2", readsRequest: false)
        #expect(graded.report.score == 0 && statuses(graded).allSatisfy { $0 == .crashed })
    }

    @Test func stoppingTheGradersClockStillTimesOut() throws {
        let graded = try grade("(sleep 2; kill -CONT $PPID) & kill -STOP $PPID; sleep 2.5; exit 0", timeout: 1)
        #expect(statuses(graded) == [.timedOut, .timedOut])
    }

    @Test func aFloodOnTheChannelIsRefusedUnread() throws {
        let graded = try grade("head -c 40000000 /dev/zero | tr '\\0' x >&3; exit 0")
        #expect(statuses(graded) == [.failed, .failed])
        #expect(graded.report.exercises[0].checks[0].message?.contains("grader's channel") == true)
    }

    @Test func aRunnerThatRewritesItselfLosesTheChecksAfter() throws {
        // Check 1 replaces the runner's file with one that would send anything it likes.
        let graded = try grade("printf '#!/bin/sh\\nexit 0\\n' > \"$0\"; exit 1")
        #expect(statuses(graded) == [.crashed, .failed])
        #expect(graded.report.exercises[0].checks[1].message?.contains("changed the runner program") == true)
    }

    @Test func backgroundProcessesDoNotOutliveTheRun() throws {
        let folder = try TestConfiguration.temporaryFolder("pids")
        defer { try? FileManager.default.removeItem(at: folder) }
        let pids = folder.appendingPathComponent("pids")
        // One in its own session, one orphaned by a double fork, one in the runner's group.
        let graded = try grade(
            """
            setsid sleep 300 & echo $! >> \(pids.path)
            ( sleep 300 & echo $! >> \(pids.path) ) &
            sleep 300 & echo $! >> \(pids.path)
            sleep 0.2
            exit 3
            """)
        #expect(graded.report.score == 0)
        let started = try String(contentsOf: pids, encoding: .utf8).split(separator: "\n").compactMap { pid_t($0) }
        #expect(started.count == 6, "two checks, three processes each")
        for pid in started {
            #expect(kill(pid, 0) != 0, "process \(pid) outlived the grading run")
        }
    }
}

/// Four threads add their numbers: 0 + 1 + 2 + 3.
func threadsStillWork() -> Bool {
    final class Total: @unchecked Sendable {
        let lock = NSLock()
        var value = 0
    }
    let total = Total()
    DispatchQueue.concurrentPerform(iterations: 4) { i in total.lock.withLock { total.value += i } }
    return total.value == 6
}

/// The runner's lock-down (Linux): once it is on, the student's code can
/// start no process and signal no other process, while threads still work.
@Suite("The runner's lock-down")
struct LockDownTests {
    #if os(Linux)
        @Test func aLockedDownProcessStartsNothingAndSignalsOnlyItself() async {
            await #expect(processExitsWith: .success) {
                guard cp_lock_down() == 0 else { exit(10) }
                guard threadsStillWork() else { exit(11) }
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/bin/true")
                guard (try? process.run()) == nil else { exit(12) }
                guard kill(getppid(), 0) == -1, errno == EPERM else { exit(13) }
                guard kill(getpid(), 0) == 0 else { exit(14) }
                // No new session or group, and no typing into a terminal.
                guard setsid() == -1, setpgid(0, getppid()) == -1 else { exit(15) }
                var byte = UInt8(ascii: "x")
                guard ioctl(0, UInt(TIOCSTI), &byte) == -1, errno == EPERM else { exit(16) }
                exit(0)
            }
        }

        @Test func aLockedDownProcessNamesNoProcessForSignalsAndIsNotDumpable() async {
            await #expect(processExitsWith: .success) {
                guard cp_lock_down() == 0 else { exit(10) }
                var pipe: [Int32] = [0, 0]
                guard Glibc.pipe(&pipe) == 0 else { exit(11) }
                // F_SETOWN, F_SETSIG, F_SETOWN_EX; FIOSETOWN, SIOCSPGRP: a signal to another process when a descriptor is ready.
                for command: Int32 in [8, 10, 15] {
                    guard fcntl(pipe[0], command, getppid()) == -1, errno == EPERM else { exit(12) }
                }
                var owner = getppid()
                for request: UInt in [0x8901, 0x8902] {
                    guard ioctl(pipe[0], request, &owner) == -1, errno == EPERM else { exit(13) }
                }
                guard fcntl(pipe[0], F_GETFL) >= 0 else { exit(14) }  // the rest of fcntl still works
                // Not dumpable: another process of the same user cannot open its memory or trace it.
                guard cp_is_dumpable() == 0 else { exit(15) }
                exit(0)
            }
        }

        @Test func aLockedDownProcessWritesNoFileAndOpensNoChannel() async throws {
            // An exit test captures nothing: the child finds the folder by its parent's process ID.
            let folder = URL(fileURLWithPath: "/tmp/d3pm-lock-down-files-\(getpid())")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let kept = folder.appendingPathComponent("kept").path
            try "a file from before".write(toFile: kept, atomically: true, encoding: .utf8)
            await #expect(processExitsWith: .success) {
                let folder = URL(fileURLWithPath: "/tmp/d3pm-lock-down-files-\(getppid())")
                let kept = folder.appendingPathComponent("kept").path
                guard cp_lock_down() == 0 else { exit(10) }
                // It reads its own program and its process's facts; where the kernel has Landlock, nothing else
                // (not the kit, the reference solutions or another submission): elsewhere, what its user may.
                guard open("/proc/self/stat", O_RDONLY) >= 0, open("/proc/self/exe", O_RDONLY) >= 0 else { exit(11) }
                // libdispatch's thread pool reads /proc/<thread>/stat of its workers, beside /proc/<process>.
                typealias ThreadID = @convention(c) () -> Int32
                guard let gettidSymbol = dlsym(nil, "gettid") else { exit(28) }
                let gettid = unsafeBitCast(gettidSymbol, to: ThreadID.self)
                let worker = Thread { if open("/proc/\(gettid())/stat", O_RDONLY) < 0 { exit(29) } }
                worker.start()
                while !worker.isFinished { usleep(1000) }
                if cp_reading_restriction_version() > 0 {
                    guard open(kept, O_RDONLY) == -1, errno == EACCES, open("/etc/passwd", O_RDONLY) == -1,
                        opendir(folder.path) == nil
                    else { exit(12) }
                } else {
                    guard open(kept, O_RDONLY) >= 0 else { exit(12) }
                }
                // Nothing is created, written, truncated, appended to, renamed, linked or removed.
                for flags in [O_WRONLY | O_CREAT, O_RDWR, O_WRONLY, O_RDONLY | O_TRUNC, O_RDONLY | O_APPEND] {
                    guard open(folder.path + "/new", flags, 0o644) == -1, errno == EACCES,
                        open(kept, flags) == -1, errno == EACCES
                    else { exit(13) }
                }
                guard creat(folder.path + "/created", 0o644) == -1, errno == EACCES else { exit(14) }
                guard mkdir(folder.path + "/made", 0o755) == -1, errno == EACCES else { exit(15) }
                guard rename(kept, folder.path + "/moved") == -1, errno == EACCES else { exit(16) }
                guard symlink(kept, folder.path + "/linked") == -1, link(kept, folder.path + "/hard") == -1
                else { exit(17) }
                guard unlink(kept) == -1, errno == EACCES, truncate(kept, 0) == -1, chmod(kept, 0o777) == -1
                else { exit(18) }
                // No socket, shared memory or message queue to another process.
                guard socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0) == -1, errno == EACCES else { exit(19) }
                guard socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0) == -1 else { exit(20) }
                guard shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0o600) == -1, errno == EPERM else { exit(21) }
                guard msgget(IPC_PRIVATE, IPC_CREAT | 0o600) == -1, errno == EPERM else { exit(22) }
                var pair: [Int32] = [0, 0]
                guard socketpair(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0, &pair) == -1, errno == EACCES else { exit(23) }
                // No lock on a file another process can read (a channel), and no capability left, even as root.
                let library = open("/proc/self/exe", O_RDONLY)
                var lock = flock()
                lock.l_type = Int16(F_RDLCK)
                guard fcntl(library, F_SETLK, &lock) == -1, errno == EPERM else { exit(24) }
                let watched = open("/proc/self", O_RDONLY)
                guard fcntl(watched, 1026, 0x1) == -1, errno == EPERM else { exit(27) }  // F_NOTIFY, DN_ACCESS
                var status = [CChar](repeating: 0, count: 4096)
                let statusFile = open("/proc/thread-self/status", O_RDONLY)  // capabilities are a thread's
                guard statusFile >= 0, read(statusFile, &status, 4095) > 0 else { exit(25) }
                let text = String(decoding: status.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                guard text.contains("CapEff:\t0000000000000000"), text.contains("CapPrm:\t0000000000000000")
                else { exit(26) }
                exit(0)
            }
            let left = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            #expect(left == ["kept"], "\(left)")
            #expect(try String(contentsOfFile: kept, encoding: .utf8) == "a file from before")
        }

        @Test func aLockedDownProcessChangesNoOtherProcessLimitsOrPriorityAndHasItsOwn() async {
            await #expect(processExitsWith: .success) {
                // Glibc declares these only for _GNU_SOURCE, which Swift's Glibc module does not define.
                typealias PrLimit =
                    @convention(c) (pid_t, Int32, UnsafePointer<rlimit>?, UnsafeMutablePointer<rlimit>?) -> Int32
                typealias Affinity = @convention(c) (pid_t, Int, UnsafeMutableRawPointer) -> Int32
                guard let prlimitSymbol = dlsym(nil, "prlimit"),
                    let getAffinitySymbol = dlsym(nil, "sched_getaffinity"),
                    let setAffinitySymbol = dlsym(nil, "sched_setaffinity")
                else { exit(9) }
                let prlimit = unsafeBitCast(prlimitSymbol, to: PrLimit.self)
                let getAffinity = unsafeBitCast(getAffinitySymbol, to: Affinity.self)
                let setAffinity = unsafeBitCast(setAffinitySymbol, to: Affinity.self)
                guard cp_lock_down() == 0 else { exit(10) }
                // Another process's limits (a CPU limit of one second would end another runner).
                var oneSecond = rlimit(rlim_cur: 1, rlim_max: 1)
                guard prlimit(getppid(), Int32(RLIMIT_CPU.rawValue), &oneSecond, nil) == -1, errno == EPERM
                else { exit(11) }
                // All the processes of the user, or another one, niced.
                guard setpriority(__priority_which_t(PRIO_USER.rawValue), 0, 19) == -1, errno == EPERM else { exit(12) }
                guard setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(getppid()), 19) == -1, errno == EPERM
                else { exit(13) }
                var cpus = [UInt64](repeating: 0, count: 16)
                let maskSize = cpus.count * MemoryLayout<UInt64>.size
                guard getAffinity(0, maskSize, &cpus) == 0 else { exit(14) }
                guard setAffinity(getppid(), maskSize, &cpus) == -1, errno == EPERM else { exit(15) }
                // Its own still work, and its files are limited in size.
                guard setAffinity(0, maskSize, &cpus) == 0 else { exit(16) }
                guard setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 1) == 0 else { exit(17) }
                var limit = rlimit()
                guard getrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &limit) == 0,
                    limit.rlim_cur == rlim_t(CP_LOCKED_DOWN_FILE_SIZE_LIMIT)
                else { exit(18) }
                exit(0)
            }
        }

        @Test func theRunnerIsLockedDownBeforeItReadsItsRequest() throws {
            // Locked down by a constructor, before main: nothing an exercise file declares runs before it.
            let runner = TestConfiguration.productsFolder.appendingPathComponent("student-runner")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "exec 3>/dev/null; exec '\(runner.path)'"]
            let request = Pipe()
            process.standardInput = request
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            var status = ""
            for _ in 0..<200 where !status.contains("Seccomp:\t2") {
                Thread.sleep(forTimeInterval: 0.05)
                status =
                    (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
            }
            try request.fileHandleForWriting.close()
            process.waitUntilExit()
            #expect(status.contains("Seccomp:\t2"), "\(status)")
            #expect(status.contains("NoNewPrivs:\t1"))
        }

        @Test func runnersOfAnotherUserInheritALimitOnTheirProcesses() async {
            await #expect(processExitsWith: .success) {
                Grader.limitProcessesOfTheRunnerUser()
                var limit = rlimit()
                guard getrlimit(__rlimit_resource_t(__RLIMIT_NPROC.rawValue), &limit) == 0,
                    limit.rlim_cur == rlim_t(Grader.runnerUserProcessLimit),
                    limit.rlim_max == rlim_t(Grader.runnerUserProcessLimit)
                else { exit(10) }
                exit(0)
            }
        }

        @Test func aCrashReportsFramesThatPointIntoTheProgram() async {
            let result = await #expect(processExitsWith: .signal(SIGILL), observing: [\.standardErrorContent]) {
                cp_install_crash_reporter(2)
                _ = cp_lock_down()
                let values = [1, 2, 3]
                let index = Int(getpid() % 2) + 10
                print(values[index])
            }
            let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
            // An optimised build traps on a bad index without the message.
            #if DEBUG
                #expect(stderr.contains("Fatal error: Index out of range"))
            #endif
            #expect(stderr.split(separator: "\n").filter { $0.hasPrefix("D3PM-FRAME ") }.count >= 3)
        }
    #endif
}
