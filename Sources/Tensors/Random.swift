#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A seedable random number generator that gives the same numbers for the
/// same seed on every platform.
///
/// The algorithm is xoshiro256** (Blackman and Vigna, 2018), its 256-bit state
/// filled from the 64-bit seed by SplitMix64. Floats in [0, 1) take the top
/// 24 bits of one output; normals use the Box-Muller transform in Double.
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator whose whole sequence is fixed by `seed`.
    public init(seed: UInt64) {
        var s = seed
        func splitMix() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A float uniform in [0, 1).
    public mutating func nextUniform() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// A standard normal float.
    public mutating func nextNormal() -> Float {
        let u1 = (Double(next() >> 11) + 0.5) * 0x1p-53
        let u2 = Double(next() >> 11) * 0x1p-53
        // Box-Muller in Double; the module's own log and cos take tensors, hence the explicit libm names.
        return Float((-2 * libmLog(u1)).squareRoot() * libmCos(2 * Double.pi * u2))
    }

    /// An integer uniform in `range` (unbiased, by rejection).
    public mutating func nextInt(in range: Range<Int>) -> Int {
        ensure(!range.isEmpty, "RandomGenerator.nextInt(in:): empty range \(range)")
        let span = UInt64(range.count)
        let limit = UInt64.max - UInt64.max % span
        var x = next()
        while x >= limit { x = next() }
        return range.lowerBound + Int(x % span)
    }

    /// A generator for a sub-stream, independent of this one, derived from its next output.
    public mutating func split() -> RandomGenerator { RandomGenerator(seed: next()) }
}

@inline(__always) private func libmLog(_ x: Double) -> Double { log(x) }
@inline(__always) private func libmCos(_ x: Double) -> Double { cos(x) }

extension Tensor {
    /// Uniform samples in [low, high).
    public static func uniform(_ shape: [Int], low: Float = 0, high: Float = 1, using rng: inout RandomGenerator)
        -> Tensor
    {
        let n = shape.reduce(1, *)
        return Tensor(shape: shape, scalars: (0..<n).map { _ in low + (high - low) * rng.nextUniform() })
    }

    /// Normal samples with the given mean and standard deviation.
    public static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1, using rng: inout RandomGenerator)
        -> Tensor
    {
        let n = shape.reduce(1, *)
        return Tensor(shape: shape, scalars: (0..<n).map { _ in mean + std * rng.nextNormal() })
    }

    /// Standard Gumbel samples, -log(-log u) with u uniform and clamped to
    /// [eps, 1 - eps] so that neither logarithm sees 0.
    public static func gumbel(_ shape: [Int], eps: Float = 1e-6, using rng: inout RandomGenerator) -> Tensor {
        let n = shape.reduce(1, *)
        return Tensor(
            shape: shape,
            scalars: (0..<n).map { _ in
                let u = Swift.min(Swift.max(rng.nextUniform(), eps), 1 - eps)
                return -logf(-logf(u))
            })
    }
}

extension IntTensor {
    /// Integers uniform in `range`.
    public static func random(_ shape: [Int], in range: Range<Int>, using rng: inout RandomGenerator) -> IntTensor {
        let n = shape.reduce(1, *)
        return IntTensor(shape: shape, scalars: (0..<n).map { _ in rng.nextInt(in: range) })
    }
}
