import Checks
import D3PM
import Foundation
import Testing

/// Every check of the grader, run by `swift test` against the student's
/// exercises (or the solutions with `D3PM_SOLUTIONS=1`).
///
/// Each check runs in a child process (a Swift Testing exit test), so a stub,
/// a trap or a failed precondition in the checked code fails that check
/// alone and the other results are kept.
@Suite("Exercise checks")
struct ExerciseCheckTests {
    @Test(arguments: CheckCatalog.all.map(\.id))
    func check(_ id: String) async throws {
        let implementation = TestConfiguration.implementation
        let result = await #expect(processExitsWith: .success, observing: [\.standardOutputContent, \.standardErrorContent]) {
            [id = id as String, implementation = implementation as Implementation] in
            guard let check = CheckCatalog.check(id: id) else { exit(2) }
            let outcome = check.run(implementation, seed: CheckCatalog.defaultSeed)
            print(OutcomeLine.encode(outcome), terminator: "")
            exit(outcome.status == .passed ? 0 : 1)
        }
        guard let result, result.exitStatus != .exitCode(0) else { return }
        let stdout = String(decoding: result.standardOutputContent, as: UTF8.self)
        let stderr = String(decoding: result.standardErrorContent, as: UTF8.self)
        if let line = stdout.split(separator: "\n").first(where: { $0.hasPrefix("D3PM-OUTCOME") }), let outcome = OutcomeLine.decode(line) {
            Issue.record("""
                \(id) failed for \(implementation.rawValue)
                  expected: \(outcome.expected ?? "-")
                  actual:   \(outcome.actual ?? outcome.message ?? "-")
                  hint:     \(outcome.hint ?? "-")
                """)
        } else if result.exitStatus == .exitCode(NotImplemented.exitCode) {
            Issue.record("\(id): not implemented yet (\(stderr.split(separator: "\n").first ?? ""))")
        } else {
            Issue.record("\(id) crashed for \(implementation.rawValue): \(stderr.split(separator: "\n").first { $0.contains("Fatal error") } ?? "\(result.exitStatus)")")
        }
    }
}
