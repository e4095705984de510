import D3PM
import Foundation
import Solutions
import Student
import Tensors

/// The five exercises of the practical.
public enum Exercise: Int, CaseIterable, Codable, Sendable, Comparable {
    case exercise1 = 1, exercise2, exercise3, exercise4, exercise5, exercise6, exercise7

    /// The command-line name: `exercise1` ... `exercise5`.
    public var id: String { "exercise\(rawValue)" }

    /// What the exercise is about.
    public var title: String {
        switch self {
        case .exercise1: "Transition matrices"
        case .exercise2: "Posterior and Gumbel-max"
        case .exercise3: "The hybrid loss"
        case .exercise4: "Forward sampling"
        case .exercise5: "One reverse step"
        case .exercise6: "Absorbing state (beyond the practical)"
        case .exercise7: "Discretized Gaussian (beyond the practical)"
        }
    }

    /// The file of `Exercises/` that holds it.
    public var file: String {
        switch self {
        case .exercise1: "Exercises/Exercise1+TransitionMatrices.swift"
        case .exercise2: "Exercises/Exercise2+Posterior.swift"
        case .exercise3: "Exercises/Exercise3+HybridLoss.swift"
        case .exercise4: "Exercises/Exercise4+ForwardSampling.swift"
        case .exercise5: "Exercises/Exercise5+ReverseStep.swift"
        case .exercise6: "Exercises/Exercise6+AbsorbingState.swift"
        case .exercise7: "Exercises/Exercise7+DiscretizedGaussian.swift"
        }
    }

    /// The functions to write.
    public var functions: [String] {
        switch self {
        case .exercise1: ["makeUniformQOnestep", "cumulativeQ"]
        case .exercise2: ["gatherAt", "qPosteriorLogits", "gumbelMaxSample"]
        case .exercise3: ["vb", "hybridLoss"]
        case .exercise4: ["qSample"]
        case .exercise5: ["pSample"]
        case .exercise6: ["makeAbsorbingQOnestep"]
        case .exercise7: ["makeGaussianQOnestep"]
        }
    }

    /// A nudge in the right direction that does not give the answer away.
    public var hint: String {
        switch self {
        case .exercise1:
            "Write Q_t for one t on paper with K = 2 first: what is the probability of staying put? For the product, the first step's matrix is on the left."
        case .exercise2:
            "Bayes' rule: q(x_{t-1} | x_t, x0) is proportional to q(x_t | x_{t-1}) q(x_{t-1} | x0). Which matrix gives each factor, at which index, and as a row or a column?"
        case .exercise3:
            "KL(p || q) = sum p (log p - log q), with log p and log q from logSoftmax. The true posterior is p. Keep everything differentiable."
        case .exercise4:
            "q(x_t | x0) is one row of one cumulative matrix per pixel: gather it, take logs, and sample it once."
        case .exercise5:
            "Model, then posterior, then Gumbel-max. The last step, t = 1, should not be random."
        case .exercise6:
            "Write the 3 x 3 matrix (K = 2 plus [MASK]) by hand first. Where does the probability beta_t go, and what happens to [MASK] itself?"
        case .exercise7:
            "Compute Z_t once per beta (a sum over 2K - 1 offsets), the off-diagonal entries with broadcasting, then give each diagonal entry the rest of its row."
        }
    }

    public static func < (a: Exercise, b: Exercise) -> Bool { a.rawValue < b.rawValue }

    /// The exercise named `exercise3`, `3` or `ex3`.
    public init?(name: String) {
        let digits = name.lowercased().replacingOccurrences(of: "exercise", with: "").replacingOccurrences(of: "ex", with: "")
        guard let number = Int(digits), let exercise = Exercise(rawValue: number) else { return nil }
        self = exercise
    }
}

extension Corruption {
    /// The exercise whose function builds this corruption's matrices.
    public var exercise: Exercise {
        switch self {
        case .uniform: .exercise1
        case .absorbing: .exercise6
        case .gaussian: .exercise7
        }
    }

    /// The exercises a model trained with this corruption runs on: the
    /// practical's five and the one that builds the matrices.
    public var requiredExercises: [Exercise] {
        Exercise.allCases.filter { $0.rawValue <= 5 || $0 == exercise }
    }
}

/// Which module's functions are checked.
public enum Implementation: String, CaseIterable, Codable, Sendable {
    /// The student's functions in `Exercises/` (module `Student`).
    case student
    /// The reference functions in `Solutions/` (module `Solutions`).
    case solutions

    /// The type that implements the exercises.
    public var exercises: D3PMExercises.Type {
        switch self {
        case .student: StudentExercises.self
        case .solutions: ReferenceSolutions.self
        }
    }
}

/// A check that did not pass: what was expected, what came out, and a hint.
public struct CheckFailure: Error, Sendable {
    public var expected: String
    public var actual: String
    public var hint: String

    public init(expected: String, actual: String, hint: String) {
        self.expected = expected
        self.actual = actual
        self.hint = hint
    }
}

/// One check of one exercise, defined once and run by both `grade` and `swift test`.
public struct Check: Sendable {
    /// A stable identifier, `exercise2.posterior-known-x0`.
    public let id: String
    /// The exercise it belongs to.
    public let exercise: Exercise
    /// One line saying what it verifies.
    public let title: String
    /// Its weight in the score.
    public let points: Int
    /// The hint shown when the check crashes or fails without a more precise one.
    public let hint: String
    /// Throws ``CheckFailure`` when the implementation is wrong.
    let body: @Sendable (_ exercises: D3PMExercises.Type, _ seed: UInt64) throws -> Void

    init(
        _ exercise: Exercise, _ name: String, _ title: String, points: Int = 1, hint: String,
        body: @escaping @Sendable (_ exercises: D3PMExercises.Type, _ seed: UInt64) throws -> Void
    ) {
        self.id = "\(exercise.id).\(name)"
        self.exercise = exercise
        self.title = title
        self.points = points
        self.hint = hint
        self.body = body
    }

    /// Runs the check in this process. A stub or a trap in the checked code
    /// ends the process: run it through ``IsolatedRunner`` to survive that.
    public func run(_ implementation: Implementation, seed: UInt64) -> CheckOutcome {
        run(implementation.exercises, seed: seed)
    }

    /// Runs the check in this process on any implementation of the exercises
    /// (the mutation tests hand it deliberately wrong ones).
    public func run(_ exercises: D3PMExercises.Type, seed: UInt64) -> CheckOutcome {
        let start = DispatchTime.now()
        var outcome: CheckOutcome
        do {
            try body(exercises, seed)
            outcome = CheckOutcome(check: self, status: .passed)
        } catch let failure as CheckFailure {
            outcome = CheckOutcome(check: self, status: .failed)
            outcome.expected = failure.expected
            outcome.actual = failure.actual
            outcome.hint = failure.hint
        } catch {
            outcome = CheckOutcome(check: self, status: .failed)
            outcome.message = "\(error)"
            outcome.hint = hint
        }
        outcome.seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        return outcome
    }
}

/// The result of running one check.
public struct CheckOutcome: Codable, Sendable, Equatable {
    /// How a check ended.
    public enum Status: String, Codable, Sendable {
        case passed
        case failed
        /// The checked code reached a `notImplemented()` stub.
        case notImplemented = "not implemented"
        /// The checked code trapped (an index out of range, a failed precondition, ...).
        case crashed
        /// The check did not finish within its deadline (an endless loop?).
        case timedOut = "timed out"
    }

    public var id: String
    public var exercise: Int
    public var title: String
    public var points: Int
    public var status: Status
    public var expected: String?
    public var actual: String?
    public var hint: String?
    /// What the process said when it crashed, or which stub it reached.
    public var message: String?
    public var seconds: Double?

    public init(check: Check, status: Status) {
        id = check.id
        exercise = check.exercise.rawValue
        title = check.title
        points = check.points
        self.status = status
    }

    /// The points earned: all of them when passed, none otherwise.
    public var score: Int { status == .passed ? points : 0 }
}
