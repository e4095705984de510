import D3PM
import Foundation
import Tensors

/// Exercise 6: absorbing-state matrices (beyond the practical).
enum Exercise6 {
    static let info = ExerciseInfo(
        number: 6, title: "Absorbing state (beyond the practical)", file: "Exercises/Exercise6+AbsorbingState.swift",
        functions: ["makeAbsorbingQOnestep"],
        hint:
            "Write the 3 x 3 matrix (K = 2 plus [MASK]) by hand first. Where does the probability beta_t go, and what happens to [MASK] itself?",
        knownMistakes: ["[MASK] as the first state instead of the last", "a uniform jump instead of a jump to [MASK]"]
    ) { number in
        [
            Check(
                exercise: number, name: "absorbing-values",
                title: "Q_t = (1 - beta_t) I + beta_t 1 e_m^T over K + 1 states, entry by entry", points: 2,
                hint: hint, trial: values),
            Check(
                exercise: number, name: "absorbing-mask-stays",
                title:
                    "[MASK] never leaves, rows sum to 1, and with beta_t = 1/(T - t + 1) everything is masked at t = T",
                points: 2,
                hint: "The row of [MASK] must be e_m: it keeps all its mass.", trial: maskStays),
        ]
    }

    static let hint =
        "Q_t = (1 - beta_t) I + beta_t 1 e_m^T over K + 1 states: each value keeps itself with 1 - beta_t and goes to [MASK] (the last state) with beta_t."

    static func values(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 601)
        let k = draw.int(2...6), steps = draw.int(2...6)
        let betas = draw.betas(steps, in: 0.05...1)
        return Trial(.makeAbsorbingQOnestep(numClasses: k, betas: Tensor(betas.map(Float.init)))) { results in
            let q = try results.value()
            try Expect.shape(
                q.shape, [steps, k + 1, k + 1], of: "makeAbsorbingQOnestep(numClasses: \(k), betas: [\(steps) values])",
                hint: "There are K + 1 states: the K classes and [MASK], the last one.")
            try Expect.close(
                q.doubles, BruteForce.flat(BruteForce.absorbingOnestep(numClasses: k, betas: betas)),
                of: "Q_t for K = \(k), betas \(Expect.format(betas))", names: .matrices(q.shape), hint: hint,
                knownBugs: [
                    KnownBug(
                        values: BruteForce.flat(BruteForce.absorbingOnestep(numClasses: k, betas: betas, mask: 0)),
                        hint: "[MASK] is the last state (index K), not the first."),
                    KnownBug(
                        values: BruteForce.flat(BruteForce.uniformOnestep(numClasses: k + 1, betas: betas)),
                        hint: "The jump goes to [MASK] only, not uniformly over the states."),
                    KnownBug(
                        values: BruteForce.flat(
                            zip(BruteForce.absorbingOnestep(numClasses: k, betas: betas), betas).map { m, beta in
                                var leaking = m
                                leaking[k][k] = 1 - beta
                                return leaking
                            }),
                        hint:
                            "The row of [MASK] sums to 1 - beta_t: [MASK]'s jump lands on [MASK] too, so its row is e_m, all its mass kept."
                    ),
                    KnownBug(
                        values: BruteForce.flat(
                            BruteForce.absorbingOnestep(numClasses: k, betas: betas).map { m in
                                m.indices.map { i in m.indices.map { j in m[j][i] } }
                            }),
                        hint:
                            "Your Q_t is transposed: row i is where state i goes, so the column of [MASK] holds beta_t and its row is e_m."
                    ),
                ])
        }
    }

    static func maskStays(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 602)
        let k = draw.int(2...5), steps = draw.int(3...10)
        return Trial(.makeAbsorbingQOnestep(numClasses: k, betas: NoiseSchedule.inverse.betas(steps: steps))) {
            results in
            let q = try results.value()
            let states = k + 1
            try Expect.shape(
                q.shape, [steps, states, states],
                of: "makeAbsorbingQOnestep(numClasses: \(k), betas: [\(steps) values])",
                hint: "There are K + 1 states: the K classes and [MASK], the last one.")
            try Expect.close(
                Exercise1.rowSums(q), [Double](repeating: 1, count: steps * states), of: "row sums of Q_t",
                names: EntryNames { "[t = \($0 / states + 1), row \($0 % states)]" }, atol: 1e-5, rtol: 0,
                hint: "Every row of Q_t is a distribution: it sums to 1.")
            // The row of [MASK] in every Q_t is e_m: it stays, whatever beta_t (the last step's beta_T = 1
            // would hide a leak in Q_{1:T}).
            let matrices = BruteForce.matrices(q)
            try Expect.close(
                matrices.flatMap { $0[k] }, (0..<steps).flatMap { _ in (0..<states).map { $0 == k ? 1.0 : 0.0 } },
                of: "row [MASK] of each Q_t",
                names: EntryNames { "[t = \($0 / states + 1), column \($0 % states)]" }, atol: 1e-5, rtol: 0,
                hint: "The row of [MASK] must be e_m: [MASK] keeps all its mass and never becomes a class.")
            let cumulative = BruteForce.cumulative(matrices)
            let kept = (1...steps).map { cumulative[$0 - 1][0][0] }
            try Expect.close(
                kept, (1...steps).map { 1 - Double($0) / Double(steps) },
                of: "P(x_t = x_0) under beta_t = 1 / (T - t + 1), T = \(steps)",
                names: EntryNames { "[t = \($0 + 1)]" }, atol: 1e-5, rtol: 1e-4,
                hint: "A value survives step t with probability 1 - beta_t, and [MASK] is never undone.")
            try Expect.close(
                cumulative[steps - 1].map { $0[k] }, [Double](repeating: 1, count: states),
                of: "column [MASK] of Q_{1:T}",
                names: EntryNames { "[row \($0)]" }, atol: 1e-5, rtol: 0,
                hint: "At t = T every row, [MASK]'s own included, must be all [MASK].")
        }
    }
}
