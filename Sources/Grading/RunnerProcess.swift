import CProcess
import D3PM
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One run of a runner executable: the request on its standard input, its
/// channel on descriptor 3, its standard output and error kept apart.
///
/// The run is supervised, never trusted: a deadline, output capped at
/// ``outputLimit`` bytes a stream (the rest is read and dropped), and, when
/// the runner has ended, every process it started ended too (``ProcessSweep``).
struct RunnerProcess {
    /// How the runner process ended.
    enum Ending: Equatable {
        case exited(Int32)
        case signalled(Int32)
        case timedOut
    }

    var ending: Ending
    /// The channel's bytes.
    var channel: Data
    var standardOutput: Data
    var standardError: Data
    var seconds: Double
    /// The channel carried more than a runner can send for the request.
    var channelOverflowed: Bool

    static let outputLimit = 64 * 1024

    /// A runner that ends before reading its whole request must not end the
    /// grader with SIGPIPE: writing to it then fails with EPIPE instead.
    private static let ignoreBrokenPipes: Void = { signal(SIGPIPE, SIG_IGN) }()

    /// Runs `executable` with `request` as its standard input.
    static func run(
        _ executable: URL, request: Data, timeout: Double, environment: [String: String], user: String? = nil,
        directory: URL? = nil
    ) throws
        -> RunnerProcess
    {
        _ = ignoreBrokenPipes
        let start = DispatchTime.now()
        // Pipes above descriptor 3, so that the child's dup2 onto 0-3 never meets one of them.
        let input = try makePipe(), output = try makePipe(), errors = try makePipe(), channel = try makePipe()
        var actions = SpawnActions()
        defer { actions.destroy() }
        actions.dup(input.read, to: 0)
        actions.dup(output.write, to: 1)
        actions.dup(errors.write, to: 2)
        actions.dup(channel.write, to: ExerciseRunner.channelDescriptor)
        if let directory { actions.changeDirectory(to: directory.path) }
        // Another user's runner: setpriv drops to that user and executes the runner in the same process.
        let command =
            user.map { ["/usr/bin/setpriv", "--reuid=\($0)", "--regid=\($0)", "--clear-groups", executable.path] } ?? [
                executable.path
            ]
        let pid = try actions.spawn(command, environment: environment)
        for fd in [input.read, output.write, errors.write, channel.write] { close(fd) }

        // The request goes in on its own thread: a runner that never reads must not block the grader.
        let writer = Thread {
            request.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let written = write(input.write, raw.baseAddress! + offset, raw.count - offset)
                    if written < 0 && errno == EINTR { continue }
                    if written <= 0 { break }
                    offset += written
                }
            }
            close(input.write)
        }
        writer.start()

        // Results are about the size of the inputs; a few times that, plus room, is all a runner needs.
        let channelLimit = 16 * 1024 * 1024 + 4 * request.count
        var streams = [
            Stream(fd: output.read, limit: outputLimit), Stream(fd: errors.read, limit: outputLimit),
            Stream(fd: channel.read, limit: channelLimit + 1),
        ]
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeout * 1e9)
        var ending: Ending?
        while ending == nil {
            poll(&streams, milliseconds: 10)
            var status: Int32 = 0
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid {
                ending = decode(status)
            } else if DispatchTime.now().uptimeNanoseconds > deadline {
                kill(-pid, SIGKILL)
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                ending = .timedOut
            }
        }
        ProcessSweep.endEverything(startedIn: pid)
        // Whatever is still in the pipes; a writer that escaped the sweep cannot hold the grader up.
        let drainDeadline = DispatchTime.now().uptimeNanoseconds + 300_000_000
        while streams.contains(where: { !$0.closed }) && DispatchTime.now().uptimeNanoseconds < drainDeadline {
            poll(&streams, milliseconds: 10)
        }
        for stream in streams where !stream.closed { close(stream.fd) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        // A runner that stopped the grader's clock (SIGSTOP) still ran out of time.
        if seconds > timeout + 0.5 { ending = .timedOut }
        return RunnerProcess(
            ending: ending!, channel: streams[2].data, standardOutput: streams[0].data,
            standardError: streams[1].data, seconds: seconds, channelOverflowed: streams[2].data.count > channelLimit)
    }

    private static func decode(_ status: Int32) -> Ending {
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
    }

    struct Stream {
        let fd: Int32
        let limit: Int
        var data = Data()
        var closed = false
    }

    /// Reads what is available on the open streams, waiting up to `milliseconds`.
    private static func poll(_ streams: inout [Stream], milliseconds: Int32) {
        var fds = streams.filter { !$0.closed }.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
        guard !fds.isEmpty else {
            usleep(UInt32(milliseconds) * 1000)
            return
        }
        _ = fds.withUnsafeMutableBufferPointer { systemPoll($0.baseAddress!, nfds_t($0.count), milliseconds) }
        var buffer = [UInt8](repeating: 0, count: 65536)
        for index in streams.indices where !streams[index].closed {
            guard let entry = fds.first(where: { $0.fd == streams[index].fd }), entry.revents != 0 else { continue }
            let count = read(streams[index].fd, &buffer, buffer.count)
            if count > 0 {
                let room = streams[index].limit - streams[index].data.count
                if room > 0 { streams[index].data.append(contentsOf: buffer[0..<min(count, room)]) }
            } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                close(streams[index].fd)
                streams[index].closed = true
            }
        }
    }

    private static func makePipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw GradingError.system("pipe", errno) }
        let moved = fds.map { fd -> Int32 in
            let high = fcntl(fd, F_DUPFD_CLOEXEC, 10)
            close(fd)
            return high
        }
        guard moved.allSatisfy({ $0 >= 10 }) else { throw GradingError.system("fcntl", errno) }
        return (moved[0], moved[1])
    }
}

private func systemPoll(_ fds: UnsafeMutablePointer<pollfd>, _ count: nfds_t, _ timeout: Int32) -> Int32 {
    poll(fds, count, timeout)
}

/// posix_spawn's file actions and attributes, for both C libraries.
private struct SpawnActions {
    #if canImport(Darwin)
        var actions: posix_spawn_file_actions_t? = nil
        var attributes: posix_spawnattr_t? = nil
    #else
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
    #endif

    init() {
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        // A session of its own (so no controlling terminal, and no way into the
        // grader's process group), default signal handling, nothing blocked.
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(
            &attributes, Int16(Self.setSession | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    }

    mutating func dup(_ fd: Int32, to target: Int32) {
        posix_spawn_file_actions_adddup2(&actions, fd, target)
    }

    /// POSIX_SPAWN_SETSID, which Swift's C library overlays do not show.
    #if canImport(Darwin)
        static let setSession: Int32 = 0x0400
    #else
        static let setSession: Int32 = 0x80
    #endif

    mutating func changeDirectory(to path: String) {
        cp_spawn_file_actions_chdir(&actions, path)
    }

    mutating func spawn(_ command: [String], environment: [String: String]) throws -> pid_t {
        var pid: pid_t = 0
        let path = command[0]
        let argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var result = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        // A runner just built or written may still be open for writing in a process being forked elsewhere.
        for _ in 0..<40 where result == ETXTBSY {
            usleep(50_000)
            result = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        }
        guard result == 0 else { throw GradingError.cannotStart(path, String(cString: strerror(result))) }
        return pid
    }

    mutating func destroy() {
        posix_spawn_file_actions_destroy(&actions)
        posix_spawnattr_destroy(&attributes)
    }
}

/// Why grading could not run at all.
public enum GradingError: Error, CustomStringConvertible {
    case system(String, Int32)
    case cannotStart(String, String)
    case noRunner(String)

    public var description: String {
        switch self {
        case .system(let call, let code): "\(call) failed: \(String(cString: strerror(code)))"
        case .cannotStart(let path, let reason): "cannot start \(path): \(reason)"
        case .noRunner(let what): what
        }
    }
}
