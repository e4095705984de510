import Checks
import Testing

/// The reference solutions pass every check for every seed from 1 to 100:
/// the statistical checks have no false failures.
@Suite("Solutions pass for every seed")
struct SolutionsSeedTests {
    @Test(arguments: Array(stride(from: UInt64(1), through: 100, by: 10)))
    func everyCheckPasses(seedsFrom start: UInt64) {
        for seed in start..<(start + 10) {
            for check in CheckCatalog.all {
                let outcome = check.run(.solutions, seed: seed)
                #expect(outcome.status == .passed, "\(check.id), seed \(seed): \(outcome.expected ?? "") / \(outcome.actual ?? "") / \(outcome.message ?? "")")
            }
        }
    }
}
