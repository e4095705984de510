import Tensors

/// The mean and covariance of a set of feature vectors: what the Fréchet
/// distance compares. Accumulated in double precision.
public struct FeatureStatistics: Sendable, Equatable {
    /// How many vectors were summarised.
    public let count: Int
    /// D, the size of each vector.
    public let dimension: Int
    /// The mean vector, D values.
    public let mean: [Double]
    /// The covariance matrix (divided by count - 1), D x D row-major.
    public let covariance: [Double]

    /// The statistics of the rows of `features`, shape [N, D] with N >= 2.
    public init(features: Tensor) {
        precondition(
            features.rank == 2 && features.shape[0] >= 2,
            "FeatureStatistics: expected features [N, D] with N >= 2, got \(features.shape)")
        let (n, d) = (features.shape[0], features.shape[1])
        let x = features.scalars
        var mean = [Double](repeating: 0, count: d)
        for row in 0..<n {
            for j in 0..<d { mean[j] += Double(x[row * d + j]) }
        }
        for j in 0..<d { mean[j] /= Double(n) }
        var covariance = [Double](repeating: 0, count: d * d)
        var centred = [Double](repeating: 0, count: d)
        for row in 0..<n {
            for j in 0..<d { centred[j] = Double(x[row * d + j]) - mean[j] }
            for i in 0..<d {
                let ci = centred[i]
                for j in i..<d { covariance[i * d + j] += ci * centred[j] }
            }
        }
        for i in 0..<d {
            for j in i..<d {
                covariance[i * d + j] /= Double(n - 1)
                covariance[j * d + i] = covariance[i * d + j]
            }
        }
        self.init(count: n, mean: mean, covariance: covariance)
    }

    /// Statistics given directly (a Gaussian's parameters).
    public init(count: Int, mean: [Double], covariance: [Double]) {
        precondition(
            covariance.count == mean.count * mean.count,
            "FeatureStatistics: a mean of \(mean.count) values needs a \(mean.count) x \(mean.count) covariance, got \(covariance.count) values"
        )
        self.count = count
        self.dimension = mean.count
        self.mean = mean
        self.covariance = covariance
    }

    /// The Fréchet distance between the Gaussians with these two means and
    /// covariances (the FID's formula, on the kit classifier's features):
    ///
    ///     d² = |μ1 - μ2|² + tr(C1) + tr(C2) - 2 tr((C1 C2)^½)
    ///
    /// tr((C1 C2)^½) is computed as the sum of the square roots of the
    /// eigenvalues of C1^½ C2 C1^½, which is symmetric and has the same
    /// eigenvalues as C1 C2. 0 for identical statistics; it grows with a
    /// shift of the mean and with a covariance that is too narrow (samples
    /// that collapse onto a few shapes) or too wide.
    public func frechetDistance(to other: FeatureStatistics) -> Double {
        precondition(
            dimension == other.dimension,
            "frechetDistance: features of \(dimension) and \(other.dimension) values cannot be compared")
        let d = dimension
        var squaredShift = 0.0
        for j in 0..<d { squaredShift += (mean[j] - other.mean[j]) * (mean[j] - other.mean[j]) }
        let root = SymmetricMatrix.squareRoot(covariance, size: d)
        let product = SymmetricMatrix.multiply(SymmetricMatrix.multiply(root, other.covariance, size: d), root, size: d)
        let traceOfRoot = SymmetricMatrix.eigen(product, size: d).values.reduce(0) { $0 + max($1, 0).squareRoot() }
        let trace1 = (0..<d).reduce(0) { $0 + covariance[$1 * d + $1] }
        let trace2 = (0..<d).reduce(0) { $0 + other.covariance[$1 * d + $1] }
        return max(squaredShift + trace1 + trace2 - 2 * traceOfRoot, 0)
    }
}

/// Small dense symmetric-matrix routines in double precision (row-major).
enum SymmetricMatrix {
    /// A · B for n x n matrices.
    static func multiply(_ a: [Double], _ b: [Double], size n: Int) -> [Double] {
        var c = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for k in 0..<n {
                let aik = a[i * n + k]
                if aik == 0 { continue }
                for j in 0..<n { c[i * n + j] += aik * b[k * n + j] }
            }
        }
        return c
    }

    /// The eigenvalues and eigenvectors (the columns of `vectors`) of a
    /// symmetric matrix, by cyclic Jacobi rotations: accurate to rounding for
    /// the sizes used here (D = 128 takes a few milliseconds).
    static func eigen(_ matrix: [Double], size n: Int) -> (values: [Double], vectors: [Double]) {
        var a = matrix
        // Symmetrise: rounding in a product such as S C S leaves it a hair asymmetric.
        for i in 0..<n {
            for j in (i + 1)..<n {
                let mean = (a[i * n + j] + a[j * n + i]) / 2
                a[i * n + j] = mean
                a[j * n + i] = mean
            }
        }
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        let scale = max(a.reduce(0) { $0 + $1 * $1 }, .leastNormalMagnitude)
        for _ in 0..<100 {
            var offDiagonal = 0.0
            for i in 0..<n {
                for j in (i + 1)..<n { offDiagonal += a[i * n + j] * a[i * n + j] }
            }
            if offDiagonal <= 1e-30 * scale { break }
            for p in 0..<n {
                for q in (p + 1)..<n {
                    let apq = a[p * n + q]
                    if abs(apq) <= 1e-300 { continue }
                    let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
                    let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {
                        let akp = a[k * n + p], akq = a[k * n + q]
                        a[k * n + p] = c * akp - s * akq
                        a[k * n + q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p * n + k], aqk = a[q * n + k]
                        a[p * n + k] = c * apk - s * aqk
                        a[q * n + k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let vkp = v[k * n + p], vkq = v[k * n + q]
                        v[k * n + p] = c * vkp - s * vkq
                        v[k * n + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        return ((0..<n).map { a[$0 * n + $0] }, v)
    }

    /// The symmetric square root of a symmetric positive semi-definite
    /// matrix: V diag(√λ) Vᵀ, with negative rounding-level eigenvalues taken as 0.
    static func squareRoot(_ matrix: [Double], size n: Int) -> [Double] {
        let (values, v) = eigen(matrix, size: n)
        let roots = values.map { max($0, 0).squareRoot() }
        var result = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n {
                var sum = 0.0
                for k in 0..<n { sum += v[i * n + k] * roots[k] * v[j * n + k] }
                result[i * n + j] = sum
            }
        }
        return result
    }
}
