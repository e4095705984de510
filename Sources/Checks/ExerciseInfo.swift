import D3PM

/// One exercise: where it lives, what the student writes, and how it is graded.
///
/// Each exercise declares its value beside its checks
/// (`Sources/Checks/Exercises/ExerciseN.swift`); ``Catalog`` lists them.
/// The grader, `grade list`, `grade hint`, `grade reset`, the tests and CI
/// all read from here.
public struct ExerciseInfo: Sendable {
    /// 1, 2, ...
    public let number: Int
    /// What the exercise is about.
    public let title: String
    /// The file of `Exercises/` that holds it.
    public let file: String
    /// The functions to write.
    public let functions: [String]
    /// A nudge in the right direction that does not give the answer away.
    public let hint: String
    /// The mistakes whose symptoms the checks recognise and name.
    public let knownMistakes: [String]
    /// The checks, in the order they run.
    public let checks: [Check]

    init(
        number: Int, title: String, file: String, functions: [String], hint: String, knownMistakes: [String],
        checks: (Int) -> [Check]
    ) {
        self.number = number
        self.title = title
        self.file = file
        self.functions = functions
        self.hint = hint
        self.knownMistakes = knownMistakes
        self.checks = checks(number)
    }

    /// The command-line name: `exercise1`, `exercise2`, ...
    public var id: String { "exercise\(number)" }

    /// Whether the exercise belongs to the original practical (or goes beyond it).
    public var isCore: Bool { number <= 5 }
}

/// Every exercise of the kit, in order.
public enum Catalog {
    /// The exercises: adding one is one line here.
    public static let exercises: [ExerciseInfo] = [
        Exercise1.info,
        Exercise2.info,
        Exercise3.info,
        Exercise4.info,
        Exercise5.info,
        Exercise6.info,
        Exercise7.info,
        Exercise8.info,
    ]

    /// Every check, exercise by exercise.
    public static var checks: [Check] { exercises.flatMap(\.checks) }

    /// The exercise numbered `number`.
    public static func exercise(_ number: Int) -> ExerciseInfo? { exercises.first { $0.number == number } }

    /// The exercise named `exercise3`, `ex3` or `3`.
    public static func exercise(named name: String) -> ExerciseInfo? {
        let digits = name.lowercased().replacingOccurrences(of: "exercise", with: "").replacingOccurrences(
            of: "ex", with: "")
        return Int(digits).flatMap(exercise(_:))
    }

    /// The check with this identifier.
    public static func check(id: String) -> Check? { checks.first { $0.id == id } }

    /// The seed the grader uses unless told otherwise.
    public static let defaultSeed: UInt64 = 1
}

extension Corruption {
    /// The exercise whose function builds this corruption's matrices.
    public var exercise: ExerciseInfo {
        switch self {
        case .uniform: Exercise1.info
        case .absorbing: Exercise6.info
        case .gaussian: Exercise7.info
        }
    }

    /// The exercises a model trained with this corruption runs on: the
    /// practical's and the one that builds the matrices.
    public var requiredExercises: [ExerciseInfo] {
        Catalog.exercises.filter { $0.isCore || $0.number == exercise.number }
    }
}
