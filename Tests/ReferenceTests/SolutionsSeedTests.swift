import Checks
import Foundation
import Solutions
import Testing

/// The reference solutions pass every check for 100 seeds spread over
/// 1...10,000: the inputs drawn from the seed never make a statistical check
/// fail a correct implementation.
@Suite("Solutions pass for every seed")
struct SolutionsSeedTests {
    static let seeds: [UInt64] = (0..<100).map { 1 + UInt64($0) * 101 }

    @Test(arguments: stride(from: 0, to: seeds.count, by: 10).map { Array(seeds[$0..<min($0 + 10, seeds.count)]) })
    func everyCheckPasses(seeds: [UInt64]) {
        for seed in seeds {
            for check in Catalog.checks {
                let outcome = check.run(on: ReferenceSolutions.self, seed: seed)
                #expect(
                    outcome.status == .passed,
                    "\(check.id), seed \(seed): \(outcome.expected ?? "") / \(outcome.actual ?? "") / \(outcome.message ?? "")"
                )
            }
        }
    }

    /// A fixed answer passes at most one seed: every check's inputs change with it.
    @Test func everyCheckDrawsItsInputsFromTheSeed() throws {
        for check in Catalog.checks {
            let first = try JSONEncoder().encode(check.trial(seed: 2).calls),
                second = try JSONEncoder().encode(check.trial(seed: 3).calls)
            #expect(first != second, "\(check.id) makes the same calls for seeds 2 and 3")
        }
    }
}
