/// Every check of the kit, in the order they run.
public enum CheckCatalog {
    /// All checks, by exercise.
    public static let all: [Check] =
        Exercise1Checks.all + Exercise2Checks.all + Exercise3Checks.all + Exercise4Checks.all + Exercise5Checks.all
        + OtherCorruptionChecks.all

    /// The checks of one exercise.
    public static func checks(for exercise: Exercise) -> [Check] { all.filter { $0.exercise == exercise } }

    /// The check with this identifier.
    public static func check(id: String) -> Check? { all.first { $0.id == id } }

    /// The seed the grader uses unless told otherwise.
    public static let defaultSeed: UInt64 = 1
}
