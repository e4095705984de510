import CProcess
import Foundation
import Tensors

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Makes ``ExerciseCall``s on an implementation of the exercises.
///
/// The runner executables (`student-runner`, built from `Student`, `D3PM` and
/// `Tensors` only, and `solutions-runner`) hand their implementation to
/// ``main(_:)``: it reads a ``RunnerRequest`` on standard input, makes the
/// calls, and writes ``RunnerMessage``s, one JSON object a line, on file
/// descriptor 3, the grader's channel. What the student's code prints goes
/// to standard output and standard error, which the grader shows as such and
/// never reads as results.
public enum ExerciseRunner {
    /// The file descriptor of the grader's channel in a runner process.
    public static let channelDescriptor: Int32 = 3

    /// Makes one call on `exercises` in this process and returns its outputs.
    public static func perform(_ call: ExerciseCall, on exercises: D3PMExercises.Type) -> CallResult {
        switch call {
        case .makeUniformQOnestep(let numClasses, let betas):
            return CallResult(value: exercises.makeUniformQOnestep(numClasses: numClasses, betas: betas))
        case .makeAbsorbingQOnestep(let numClasses, let betas):
            return CallResult(value: exercises.makeAbsorbingQOnestep(numClasses: numClasses, betas: betas))
        case .makeGaussianQOnestep(let numClasses, let betas):
            return CallResult(value: exercises.makeGaussianQOnestep(numClasses: numClasses, betas: betas))
        case .cumulativeQ(let qOnestep):
            return CallResult(value: exercises.cumulativeQ(qOnestep))
        case .gatherAt(let a, let t, let x):
            return CallResult(value: exercises.gatherAt(a, t: t, x: x))
        case .qPosteriorLogits(let x0, let xt, let t, let matrices):
            return CallResult(
                value: exercises.qPosteriorLogits(
                    x0: x0, xt: xt, t: t, qOnestepTransposed: matrices.qOnestep.transposed(),
                    qCumulative: matrices.qCumulative))
        case .qPosteriorLogitsFromPrediction(let x0Logits, let xt, let t, let matrices, let weights):
            let transposed = matrices.qOnestep.transposed()
            func posterior(_ logits: Tensor) -> Tensor {
                exercises.qPosteriorLogits(
                    x0Logits: logits, xt: xt, t: t, qOnestepTransposed: transposed, qCumulative: matrices.qCumulative)
            }
            guard let weights else { return CallResult(value: posterior(x0Logits)) }
            var value = Tensor(0)
            let gradient = gradient(at: x0Logits) { logits in
                value = posterior(logits)
                return value.shape == weights.shape ? (value * weights).sum() : value.sum()
            }
            return CallResult(value: value.detached(), gradients: [gradient])
        case .gumbelMaxSample(let logits, let noise):
            return CallResult(integers: exercises.gumbelMaxSample(logits, noise: noise))
        case .vb(let logits1, let logits2, let wantsGradient):
            guard wantsGradient else { return CallResult(value: exercises.vb(logits1, logits2)) }
            var value = Tensor(0)
            let (_, gradients) = valueWithGradient(at: [logits1, logits2]) { inputs in
                value = exercises.vb(inputs[0], inputs[1])
                return value.count == 1 ? value : value.sum()
            }
            return CallResult(value: value.detached(), gradients: gradients)
        case .hybridLoss(
            let modelLogits, let x0, let xt, let t, let matrices, let lambda, let weighting, let wantsGradient):
            let transition = matrices.transitionMatrices
            func terms(_ logits: Tensor) -> HybridLossTerms {
                exercises.hybridLoss(
                    modelLogits: logits, x0: x0, xt: xt, t: t, matrices: transition, lambda: lambda,
                    weighting: weighting)
            }
            guard wantsGradient else {
                let result = terms(modelLogits)
                return CallResult(value: result.loss, vb: result.vb, ce: result.ce)
            }
            var result = HybridLossTerms(loss: Tensor(0), vb: Tensor(0), ce: Tensor(0))
            let gradient = gradient(at: modelLogits) { logits in
                result = terms(logits)
                return result.loss.count == 1 ? result.loss : result.loss.sum()
            }
            return CallResult(
                value: result.loss.detached(), vb: result.vb.detached(), ce: result.ce.detached(), gradients: [gradient]
            )
        case .qSample(let x0, let t, let noise, let qCumulative):
            return CallResult(integers: exercises.qSample(x0: x0, t: t, noise: noise, qCumulative: qCumulative))
        case .qSkipPosteriorLogits(let x0Logits, let xt, let t, let s, let matrices):
            return CallResult(
                value: exercises.qSkipPosteriorLogits(
                    x0Logits: x0Logits, xt: xt, from: t, to: s, qOnestep: matrices.qOnestep,
                    qCumulative: matrices.qCumulative))
        case .pSample(let model, let xt, let t, let y, let matrices, let noise):
            var calls: [ModelCall] = []
            let predictor: X0Predictor = { x, s, label in
                calls.append(ModelCall(xt: x, t: s, y: label))
                return model.logits(for: x)
            }
            let sample = exercises.pSample(
                model: predictor, xt: xt, t: t, y: y, matrices: matrices.transitionMatrices, noise: noise)
            return CallResult(integers: sample, modelCalls: calls)
        }
    }

    /// Makes every call of `request` on `exercises`, in order.
    public static func perform(_ calls: [ExerciseCall], on exercises: D3PMExercises.Type) -> [CallResult] {
        calls.map { perform($0, on: exercises) }
    }

    /// The runner process: locks itself down, then reads the request on
    /// standard input, makes its calls, writes the messages on the channel,
    /// runs `afterLockDown` first, and exits 0. Call it through
    /// ``runExercises(_:afterLockDown:)``, by its module's name.
    ///
    /// Nothing but this module's compiled code and the C library's runs
    /// before the lock-down: the environment and the request are read after
    /// it, so that no conformance or overload the student's module declares
    /// can run code unlocked.
    public static func main(_ exercises: D3PMExercises.Type, afterLockDown: () -> Void = {}) -> Never {
        guard fcntl(channelDescriptor, F_GETFD) != -1 else {
            fail(
                "this program runs exercise functions for the grader (swift run grade), which gives it a channel on descriptor 3"
            )
        }
        // The runners enter the lock-down in a constructor, before main (CRunnerStart); a program built without it
        // enters here. From then on the student's code may run: on Linux it can start no process or program and
        // signal no process but this one, and a crash reports its stack for the grader to place in the student's code.
        if let problem = cp_enter_runner(channelDescriptor) { fail(String(cString: problem)) }
        afterLockDown()
        if let configuration = try? ComputeConfiguration(environment: ProcessInfo.processInfo.environment) {
            Compute.configure(configuration)
        }
        let input = FileHandle.standardInput.readDataToEndOfFile()
        let request: RunnerRequest
        do {
            request = try JSONDecoder().decode(RunnerRequest.self, from: input)
        } catch {
            fail("the request on standard input cannot be read: \(error)")
        }
        var results: [CallResult] = []
        for (index, call) in request.calls.enumerated() {
            send(.started(call: index, function: call.function))
            results.append(perform(call, on: exercises))
        }
        send(.finished(results: results))
        exit(0)
    }

    private static func send(_ message: RunnerMessage) {
        guard var bytes = try? JSONEncoder().encode(message) else { fail("cannot encode a result") }
        bytes.append(UInt8(ascii: "\n"))
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(channelDescriptor, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 && errno == EINTR { continue }
                if written <= 0 { fail("the grader's channel is closed") }
                offset += written
            }
        }
    }

    private static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("runner: \(message)\n".utf8))
        exit(2)
    }
}

/// What the grader asks a runner process to do.
public struct RunnerRequest: Codable, Sendable {
    public var calls: [ExerciseCall]
    public init(calls: [ExerciseCall]) { self.calls = calls }
}

/// What a runner process writes on the grader's channel.
public enum RunnerMessage: Codable, Sendable {
    /// Call `call` (of `function`) is about to run: if the process ends
    /// before the results, the report says where.
    case started(call: Int, function: String)
    /// The results of every call, in order.
    case finished(results: [CallResult])
}

/// The runner's entry point: ``ExerciseRunner/main(_:afterLockDown:)``.
/// A runner's `main.swift` calls it as `D3PM.runExercises(...)`: a lookup
/// by module name finds this function only, where a call of
/// `ExerciseRunner.main` would also see an overload that an exercise file
/// declared in an extension (a more specific one would win, and run before
/// the lock-down).
public func runExercises(_ exercises: any D3PMExercises.Type, afterLockDown: () -> Void = {}) -> Never {
    ExerciseRunner.main(exercises, afterLockDown: afterLockDown)
}
