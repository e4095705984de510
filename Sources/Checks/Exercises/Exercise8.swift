import D3PM
import Foundation
import Tensors

/// Exercise 8: the posterior of a jump from step t back to step s (beyond the practical).
enum Exercise8 {
    static let info = ExerciseInfo(
        number: 8, title: "Jumping several steps back (beyond the practical)",
        file: "Exercises/Exercise8+SkipSteps.swift", functions: ["qSkipPosteriorLogits"],
        hint:
            "Bayes' rule once more, over a jump: which product of one-step matrices takes x_s to x_t, and which cumulative matrix takes x0 to x_s?",
        knownMistakes: [
            "only Q_t for the whole jump", "the product Q_{s+1} ... Q_t in the wrong order",
            "Q_{s:t} (one matrix too many)", "the prior Q_{1:s-1} or Q_{1:t}", "no eps inside the log",
        ]
    ) { number in
        [
            Check(
                exercise: number, name: "skip-one-step",
                title: "a jump of one step (s = t - 1) is exercise 2's posterior",
                hint: "With s = t - 1 the product Q_{s+1:t} is Q_t alone and the prior is row x0 of Q_{1:t-1}.",
                trial: oneStep),
            Check(
                exercise: number, name: "skip-bayes",
                title: "a jump of several steps matches Bayes' rule with Q_{s+1:t}",
                points: 3, hint: hint, trial: severalSteps),
            Check(
                exercise: number, name: "skip-to-zero", title: "a jump to s = 0 returns the x0 distribution",
                hint: "At s = 0 there is nothing left to jump over: return x0Logits themselves.", trial: toZero),
            Check(
                exercise: number, name: "skip-zero-probabilities",
                title: "absorbing matrices (zero probabilities): finite logits and the right posterior", points: 2,
                hint: Exercise2.epsHint, trial: withZeros),
        ]
    }

    static let hint =
        "q(x_s | x_t, x0) is proportional to Q_{s+1:t}[x_s, x_t] (p(x0) Q_{1:s})[x_s], with Q_{s+1:t} = Q_{s+1} ... Q_t and Q_{1:s} at index s - 1."

    /// The posterior of a jump, per pixel, in Double; the options give known mistakes' answers.
    enum Mistake { case oneStep, reversed, fromStepS, priorBefore, priorAtT, noTranspose, likelihoodCumulative }

    static func posterior(
        process: ForwardProcess, x0Logits: Tensor, xt: IntTensor, t: Int, s: Int, mistake: Mistake? = nil
    ) -> [Double] {
        let rows = BruteForce.rows(x0Logits)
        guard s > 0 else { return rows.flatMap(BruteForce.softmax) }
        let k = process.numClasses
        var jump = process.onestep[mistake == .fromStepS ? s - 1 : s]
        if mistake != .oneStep {
            for index in (mistake == .fromStepS ? s : s + 1)..<t {
                jump =
                    mistake == .reversed
                    ? BruteForce.product(process.onestep[index], jump)
                    : BruteForce.product(jump, process.onestep[index])
            }
        } else {
            jump = process.onestep[t - 1]
        }
        if mistake == .likelihoodCumulative { jump = process.cumulative[t - 1] }
        let prior =
            mistake == .priorBefore && s >= 2
            ? process.cumulative[s - 2] : mistake == .priorAtT ? process.cumulative[t - 1] : process.cumulative[s - 1]
        return zip(rows, xt.scalars).flatMap { row, x in
            let p0 = BruteForce.softmax(row)
            let logits = (0..<k).map { j in
                log((mistake == .noTranspose ? jump[x][j] : jump[j][x]) + BruteForce.eps)
                    + log((0..<k).reduce(0.0) { $0 + p0[$1] * prior[$1][j] } + BruteForce.eps)
            }
            return BruteForce.softmax(logits)
        }
    }

    /// A batch of one jump: the model's x0 logits and the states x_t.
    static func jumpTrial(process: ForwardProcess, draw: inout Draw, t: Int, s: Int, hint: String) -> Trial {
        let k = process.numClasses, shape = [draw.int(2...4)] + draw.imageShape()
        let x0Logits = draw.normal(shape + [k], std: 1.5)
        let xt: IntTensor
        if process.onestep[0][k - 1][k - 1] == 1 {
            // Absorbing: a state x_t that x0 can reach, x0 drawn among the classes.
            xt = process.reachableStates(
                x0: draw.classes(shape, below: k - 1), t: IntTensor.full([shape[0]], t), draw: &draw)
        } else {
            xt = draw.classes(shape, below: k)
        }
        let call = ExerciseCall.qSkipPosteriorLogits(x0Logits: x0Logits, xt: xt, t: t, s: s, matrices: process.matrices)
        return Trial(call) { results in
            let logits = try results.value()
            try Expect.shape(
                logits.shape, x0Logits.shape,
                of: "qSkipPosteriorLogits(x0Logits \(x0Logits.shape), xt \(shape), from: \(t), to: \(s))")
            let names = EntryNames.indices(logits.shape)
            try Expect.finite(logits.doubles, of: "the logits of the jump", names: names, hint: Exercise2.epsHint)
            func answer(_ mistake: Mistake?) -> [Double] {
                posterior(process: process, x0Logits: x0Logits, xt: xt, t: t, s: s, mistake: mistake)
            }
            try Expect.close(
                probabilities(logits), answer(nil),
                of: "softmax of the logits of the jump from t = \(t) to s = \(s), \(process.description)",
                names: names, atol: 1e-4, rtol: 1e-3, hint: hint,
                knownBugs: [
                    KnownBug(
                        values: answer(.oneStep),
                        hint:
                            "You used only Q_t for the jump: from s to t the chain takes t - s steps, Q_{s+1:t} = Q_{s+1} ... Q_t."
                    ),
                    KnownBug(
                        values: answer(.reversed),
                        hint: "The product Q_{s+1:t} is in the wrong order: Q_{s+1} acts first, so it is on the left."),
                    KnownBug(
                        values: answer(.fromStepS),
                        hint:
                            "You multiplied Q_{s:t}, one matrix too many: the jump starts after step s, with Q_{s+1} (index s)."
                    ),
                    KnownBug(
                        values: answer(.priorBefore),
                        hint: "The prior of x_s given x0 is row x0 of Q_{1:s}, at index s - 1."),
                    KnownBug(
                        values: answer(.priorAtT),
                        hint:
                            "Your prior is row x0 of Q_{1:t}, the law of x_t: the posterior is over x_s, whose prior is row x0 of Q_{1:s}, at index s - 1."
                    ),
                    KnownBug(
                        values: answer(.noTranspose),
                        hint:
                            "Your likelihood reads row x_t of Q_{s+1:t}: q(x_t | x_s) is column x_t, that is row x_t of the transposed product."
                    ),
                    KnownBug(
                        values: answer(.likelihoodCumulative),
                        hint:
                            "Your likelihood comes from Q_{1:t}, which starts from x0: the jump from x_s to x_t is Q_{s+1:t} = Q_{s+1} ... Q_t."
                    ),
                ])
        }
    }

    static func oneStep(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 801)
        let process = ForwardProcess.random(&draw, steps: 4...8)
        let t = draw.int(2...process.numSteps)
        return jumpTrial(process: process, draw: &draw, t: t, s: t - 1, hint: hint)
    }

    static func severalSteps(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 802)
        let process = ForwardProcess.random(&draw, steps: 5...8)
        let t = draw.int(4...process.numSteps), s = draw.int(2...(t - 2))
        return jumpTrial(process: process, draw: &draw, t: t, s: s, hint: hint)
    }

    static func toZero(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 803)
        let process = ForwardProcess.random(&draw)
        return jumpTrial(
            process: process, draw: &draw, t: draw.int(1...process.numSteps), s: 0,
            hint: "At s = 0 return x0Logits themselves.")
    }

    static func withZeros(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 804)
        let process = ForwardProcess.absorbing(&draw, steps: 5...8)
        let t = draw.int(3...process.numSteps), s = draw.int(1...(t - 1))
        return jumpTrial(process: process, draw: &draw, t: t, s: s, hint: hint)
    }
}
