import CProcess
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Ends every process that a student's code left behind.
///
/// On Linux the grading process makes itself a child subreaper, so that a
/// process the student's code started and abandoned (with `setsid`, a double
/// fork, anything) is re-parented to the grader; after each check the grader
/// kills all its descendants and reaps them. The grader starts no other
/// processes while checks run. On macOS, which has no subreaper, the runner's
/// process group is killed: a process that left the group survives.
public enum ProcessSweep {
    nonisolated(unsafe) private static var isSubreaper = false

    /// Makes this process a subreaper (Linux). Call it once, from an
    /// executable's entry point, before any check runs; returns whether the
    /// system supports it.
    @discardableResult
    public static func becomeSubreaper() -> Bool {
        isSubreaper = cp_become_subreaper() == 0
        return isSubreaper
    }

    /// Kills the process group `group` and, where this process is a
    /// subreaper, every descendant of this process; reaps what it killed.
    /// Returns how many processes it found still running.
    @discardableResult
    static func endEverything(startedIn group: pid_t) -> Int {
        kill(-group, SIGKILL)
        guard isSubreaper else { return 0 }
        var found = 0
        for _ in 0..<200 {
            let living = descendants(of: getpid())
            if living.isEmpty { return found }
            found += living.filter { !$0.isZombie }.count
            for process in living where !process.isZombie { kill(process.pid, SIGKILL) }
            for process in living where process.parent == getpid() {
                var status: Int32 = 0
                _ = waitpid(process.pid, &status, 0)
            }
        }
        return found
    }

    struct ProcessEntry {
        let pid: pid_t
        let parent: pid_t
        let isZombie: Bool
    }

    /// The descendants of `root`, from /proc (Linux only; empty elsewhere).
    static func descendants(of root: pid_t) -> [ProcessEntry] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var children: [pid_t: [ProcessEntry]] = [:]
        for name in names {
            guard let pid = pid_t(name), let entry = entry(pid: pid, stat: statBytes(of: name)) else { continue }
            children[entry.parent, default: []].append(entry)
        }
        var result: [ProcessEntry] = [], frontier = [root]
        while let next = frontier.popLast() {
            for child in children[next] ?? [] {
                result.append(child)
                frontier.append(child.pid)
            }
        }
        return result
    }

    /// The process's state and parent from the bytes of its
    /// /proc/<pid>/stat, `pid (command) S ppid ...`. The command is any
    /// bytes a process chose (not UTF-8, with blanks or parentheses): the
    /// fields start after its last `)`.
    static func entry(pid: pid_t, stat: [UInt8]) -> ProcessEntry? {
        guard let close = stat.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = stat[(close + 1)...].split(separator: UInt8(ascii: " "))
        guard fields.count > 1, let parent = pid_t(String(decoding: fields[1], as: UTF8.self)) else { return nil }
        return ProcessEntry(pid: pid, parent: parent, isZombie: fields[0].elementsEqual([UInt8(ascii: "Z")]))
    }

    /// The bytes of /proc/<name>/stat; empty once the process is gone.
    static func statBytes(of name: String) -> [UInt8] {
        let descriptor = open("/proc/\(name)/stat", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return [] }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: 4096)
        var count = 0
        while count < bytes.count {
            let got = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + count, $0.count - count) }
            if got <= 0 { break }
            count += got
        }
        return Array(bytes[..<count])
    }
}
