/// Which functions are graded: each has its runner executable, built from
/// that implementation alone.
public enum Implementation: String, CaseIterable, Codable, Sendable {
    /// The student's functions in `Exercises/` (module `Student`).
    case student
    /// The reference functions in `Solutions/` (module `Solutions`).
    case solutions

    /// The runner's product name: `student-runner` or `solutions-runner`.
    public var runnerProduct: String { "\(rawValue)-runner" }
}
