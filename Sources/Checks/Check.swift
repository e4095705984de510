import D3PM
import Foundation
import Tensors

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

/// One check of one exercise, defined once and used by `grade` and by `swift test`.
///
/// A check is two halves that never share a process. ``trial(seed:)`` draws
/// every input from the seed and says which ``ExerciseCall``s to make; the
/// calls run in a runner process on the student's code; the returned
/// ``CallResult``s are judged by ``judge(_:results:)`` in the grader, which
/// never runs student code and alone decides the status and the points.
public struct Check: Sendable {
    /// A stable identifier, `exercise2.posterior-known-x0`.
    public let id: String
    /// The number of the exercise it belongs to.
    public let exercise: Int
    /// One line saying what it verifies.
    public let title: String
    /// Its weight in the score.
    public let points: Int
    /// The hint shown when the check crashes or fails without a more precise one.
    public let hint: String
    private let makeTrial: @Sendable (UInt64) -> Trial

    /// A check of exercise `exercise` named `name` (the part of the id after the dot).
    public init(
        exercise: Int, name: String, title: String, points: Int = 1, hint: String,
        trial: @escaping @Sendable (_ seed: UInt64) -> Trial
    ) {
        self.id = "exercise\(exercise).\(name)"
        self.exercise = exercise
        self.title = title
        self.points = points
        self.hint = hint
        self.makeTrial = trial
    }

    /// The inputs and calls of this check for `seed`, with the judge of their results.
    public func trial(seed: UInt64) -> Trial { makeTrial(seed) }

    /// The verdict on the results of `trial`'s calls. Results of the wrong
    /// number or kind fail the check: only a correct implementation passes.
    public func judge(_ trial: Trial, results: [CallResult]) -> CheckOutcome {
        var outcome = CheckOutcome(check: self, status: .failed)
        do {
            guard results.count == trial.calls.count else {
                throw CheckFailure(
                    expected: "\(trial.calls.count) results from the runner", actual: "\(results.count)",
                    hint: "The results did not come from the grader's runner.")
            }
            try trial.judge(Results(calls: trial.calls, results: results))
            outcome.status = .passed
        } catch let failure as CheckFailure {
            outcome.expected = failure.expected
            outcome.actual = failure.actual
            outcome.hint = failure.hint
        } catch {
            outcome.message = "\(error)"
            outcome.hint = hint
        }
        return outcome
    }

    /// Runs the check in this process on `exercises` (the reference solutions
    /// in the tests' seed sweep, deliberate mistakes in the known-mistake
    /// suite). A trap in `exercises` ends this process: the grader runs
    /// student code in a runner process instead.
    public func run(on exercises: D3PMExercises.Type, seed: UInt64) -> CheckOutcome {
        let trial = trial(seed: seed)
        return judge(trial, results: ExerciseRunner.perform(trial.calls, on: exercises))
    }
}

/// A check's inputs for one seed: the calls to make, and the judge of what they return.
public struct Trial: @unchecked Sendable {
    /// The calls, in order; each runs on the implementation being graded.
    public let calls: [ExerciseCall]
    let judge: (Results) throws -> Void

    init(calls: [ExerciseCall], judge: @escaping (Results) throws -> Void) {
        self.calls = calls
        self.judge = judge
    }

    init(_ call: ExerciseCall, judge: @escaping (Results) throws -> Void) {
        self.init(calls: [call], judge: judge)
    }
}

/// The results of a trial's calls, with accessors that fail the check when a
/// part is missing.
struct Results {
    let calls: [ExerciseCall]
    let results: [CallResult]

    subscript(index: Int) -> CallResult { results[index] }

    private func missing(_ what: String, _ index: Int) -> CheckFailure {
        CheckFailure(
            expected: "\(what) from \(calls[index].function)", actual: "nothing",
            hint: "The results did not come from the grader's runner.")
    }

    func value(_ index: Int = 0) throws -> Tensor {
        guard let value = results[index].value else { throw missing("a tensor", index) }
        return value
    }

    func integers(_ index: Int = 0) throws -> IntTensor {
        guard let integers = results[index].integers else { throw missing("integers", index) }
        return integers
    }

    func gradients(_ index: Int = 0, count: Int) throws -> [Tensor] {
        guard let gradients = results[index].gradients, gradients.count == count else {
            throw missing("\(count) gradients", index)
        }
        return gradients
    }

    func modelCalls(_ index: Int = 0) throws -> [ModelCall] {
        guard let calls = results[index].modelCalls else { throw missing("the model's calls", index) }
        return calls
    }

    func lossTerms(_ index: Int = 0) throws -> (loss: Tensor, vb: Tensor, ce: Tensor) {
        guard let loss = results[index].value, let vb = results[index].vb, let ce = results[index].ce else {
            throw missing("loss, vb and ce", index)
        }
        return (loss, vb, ce)
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
        /// The checked code trapped, or ended its process.
        case crashed
        /// The check did not finish within its deadline (an endless loop?).
        case timedOut = "timed out"
        /// The exercises did not compile, so nothing ran.
        case doesNotCompile = "does not compile"
    }

    public var id: String
    public var exercise: Int
    public var title: String
    public var points: Int
    public var status: Status
    public var expected: String?
    public var actual: String?
    public var hint: String?
    /// What happened to the process: the crash message, the stub reached,
    /// the exit inside a function, the compiler's errors.
    public var message: String?
    /// What the student's code printed during the check (its first lines).
    public var output: String?
    public var seconds: Double?

    public init(check: Check, status: Status) {
        id = check.id
        exercise = check.exercise
        title = check.title
        points = check.points
        self.status = status
    }

    /// The points earned: all of them when passed, none otherwise.
    public var score: Int { status == .passed ? points : 0 }
}
