import Tensors

/// Draws a check's inputs from the grading seed: sizes, schedules, classes,
/// time steps and noise all change with the seed, so that no fixed answer
/// passes two seeds. Each check salts the seed with its own number.
struct Draw {
    private var rng: RandomGenerator

    init(seed: UInt64, salt: UInt64) {
        rng = RandomGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ salt)
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int { rng.nextInt(in: range.lowerBound..<(range.upperBound + 1)) }

    mutating func double(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * Double(rng.nextUniform())
    }

    /// `count` betas in `range`, increasing, rounded to Float as the exercises see them.
    mutating func betas(_ count: Int, in range: ClosedRange<Double>) -> [Double] {
        (0..<count).map { _ in Double(Float(double(range))) }.sorted()
    }

    /// A random element of `values`.
    mutating func element<T>(of values: [T]) -> T { values[int(0...(values.count - 1))] }

    /// Class labels in 0..<k.
    mutating func classes(_ shape: [Int], below k: Int) -> IntTensor { IntTensor.random(shape, in: 0..<k, using: &rng) }

    /// `count` time steps in 1...T holding each of `including` at least once, in random places.
    mutating func steps(_ count: Int, upTo numSteps: Int, including: [Int] = [], from first: Int = 1) -> IntTensor {
        var values = (0..<count).map { _ in int(first...numSteps) }
        var places = Array(0..<count)
        for step in including.prefix(count) {
            values[places.remove(at: int(0...(places.count - 1)))] = step
        }
        return IntTensor(values)
    }

    /// A non-square image shape [H, W]: H in 1...3, W one or two more.
    mutating func imageShape() -> [Int] {
        let h = int(1...3)
        return [h, h + int(1...2)]
    }

    /// A larger [H, W] (20 to 48 pixels), for exact comparisons of samples:
    /// where the noise decides most draws, a wrong distribution agrees with
    /// the right one at many positions, and only hundreds of them tell.
    mutating func largeImageShape() -> [Int] {
        let h = int(4...6)
        return [h, h + int(1...2)]
    }

    mutating func uniform(_ shape: [Int]) -> Tensor { Tensor.uniform(shape, using: &rng) }

    mutating func normal(_ shape: [Int], std: Float = 1) -> Tensor { std * Tensor.normal(shape, using: &rng) }

    /// Random row-stochastic, non-symmetric matrices whose products do not commute.
    mutating func stochasticMatrices(_ count: Int, classes k: Int) -> [BruteForce.Matrix] {
        (0..<count).map { _ in
            (0..<k).map { i in
                let row = (0..<k).map { j in double(0...1) + (i == j ? 1.5 : 0.05) }
                let total = row.reduce(0, +)
                return row.map { Double(Float($0 / total)) }
            }
        }
    }

    /// A distribution over `k` classes with every probability at least `floor`.
    mutating func distribution(_ k: Int, floor: Double = 0.05) -> [Double] {
        let raw = (0..<k).map { _ in double(0...1) }
        let total = raw.reduce(0, +)
        return raw.map { floor + (1 - floor * Double(k)) * $0 / total }
    }
}
