import Checks
import Foundation

/// Which implementation `swift test` checks: the student's exercises by
/// default, the reference solutions with `D3PM_SOLUTIONS=1 swift test`.
enum TestConfiguration {
    static var implementation: Implementation {
        let value = ProcessInfo.processInfo.environment["D3PM_SOLUTIONS"] ?? ""
        return ["1", "true", "yes"].contains(value.lowercased()) ? .solutions : .student
    }

    /// Whether the maintainer's check that every shipped stub fails is on
    /// (`D3PM_CHECK_STUBS=1`, set by CI; a student who has started the
    /// exercises has no stubs left to check).
    static var checksStubs: Bool { ProcessInfo.processInfo.environment["D3PM_CHECK_STUBS"] == "1" }
}
