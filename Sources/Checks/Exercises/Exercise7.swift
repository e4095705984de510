import D3PM
import Foundation
import Tensors

/// Exercise 7: discretized-Gaussian matrices (beyond the practical).
enum Exercise7 {
    static let info = ExerciseInfo(
        number: 7, title: "Discretized Gaussian (beyond the practical)",
        file: "Exercises/Exercise7+DiscretizedGaussian.swift",
        functions: ["makeGaussianQOnestep"],
        hint:
            "Compute Z_t once per beta (a sum over 2K - 1 offsets), the off-diagonal entries with broadcasting, then give each diagonal entry the rest of its row.",
        knownMistakes: ["Z_t without the offset n = 0", "the exponent without its (K - 1)^2"]
    ) { number in
        [
            Check(
                exercise: number, name: "gaussian-values",
                title: "discretized-Gaussian Q_t entry by entry, for two values of K", points: 3,
                hint: hint, trial: values),
            Check(
                exercise: number, name: "gaussian-structure",
                title: "rows sum to 1, Q_t is symmetric, and nearer levels are likelier", points: 2,
                hint: "Rows must sum to 1 (the diagonal takes the rest), and Q_t[i, j] must shrink as |i - j| grows.",
                trial: structure),
        ]
    }

    static let hint =
        "Off the diagonal exp(-4 (i - j)^2 / ((K - 1)^2 beta_t)) / Z_t, with Z_t summed over n = -(K - 1) ... K - 1; the diagonal is 1 minus the rest of its row."

    static func values(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 701)
        let first = draw.int(3...5), ks = [first, first + draw.int(1...3)]
        let betas = ks.map { _ in draw.betas(draw.int(2...4), in: 0.05...3) }
        let calls = zip(ks, betas).map {
            ExerciseCall.makeGaussianQOnestep(numClasses: $0, betas: Tensor($1.map(Float.init)))
        }
        return Trial(calls: calls) { results in
            for (index, (k, beta)) in zip(ks, betas).enumerated() {
                let q = try results.value(index)
                try Expect.shape(
                    q.shape, [beta.count, k, k],
                    of: "makeGaussianQOnestep(numClasses: \(k), betas: [\(beta.count) values])")
                try Expect.close(
                    q.doubles, BruteForce.flat(BruteForce.gaussianOnestep(numClasses: k, betas: beta)),
                    of: "Q_t for K = \(k), betas \(Expect.format(beta))", names: .matrices(q.shape), atol: 1e-5,
                    rtol: 1e-4, hint: hint,
                    knownBugs: [
                        KnownBug(
                            values: BruteForce.flat(
                                BruteForce.gaussianOnestep(numClasses: k, betas: beta, includeZeroOffset: false)),
                            hint: "Z_t sums over every offset n = -(K - 1) ... K - 1, n = 0 included."),
                        KnownBug(
                            values: BruteForce.flat(
                                BruteForce.gaussianOnestep(numClasses: k, betas: beta, scaled: false)),
                            hint: "The exponent is -4 (i - j)^2 / ((K - 1)^2 beta_t): the (K - 1)^2 is missing."),
                    ])
            }
        }
    }

    static func structure(seed: UInt64) -> Trial {
        var draw = Draw(seed: seed, salt: 702)
        let k = draw.int(4...8), betas = draw.betas(2, in: 0.1...1.5)
        return Trial(.makeGaussianQOnestep(numClasses: k, betas: Tensor(betas.map(Float.init)))) { results in
            let q = try results.value()
            try Expect.shape(
                q.shape, [2, k, k], of: "makeGaussianQOnestep(numClasses: \(k), betas: \(Expect.format(betas)))")
            try Expect.close(
                Exercise1.rowSums(q), [Double](repeating: 1, count: 2 * k), of: "row sums",
                names: EntryNames { "[t = \($0 / k + 1), row \($0 % k)]" },
                atol: 1e-5, rtol: 0, hint: "The diagonal is 1 minus the sum of the rest of its row.")
            try Expect.close(
                q.doubles, q.transposed().doubles, of: "Q_t^T (symmetry)", names: .matrices(q.shape), atol: 1e-6,
                rtol: 0,
                hint: "Q_t[i, j] depends on (i - j)^2 only, and Z_t is the same for every row.")
            let matrices = BruteForce.matrices(q)
            for (s, matrix) in matrices.enumerated() {
                for i in 0..<k {
                    for j in 0..<k where abs(j - i) > 1 {
                        let nearer = j > i ? j - 1 : j + 1
                        try Expect.that(
                            matrix[i][nearer] > matrix[i][j],
                            expected:
                                "Q_\(s + 1)[\(i), \(nearer)] > Q_\(s + 1)[\(i), \(j)] (a nearer level is likelier)",
                            actual: "\(Expect.format(matrix[i][nearer])) and \(Expect.format(matrix[i][j]))", hint: hint
                        )
                    }
                }
            }
        }
    }
}
