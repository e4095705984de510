import Tensors

/// The noise of a batch of independent samples, one random stream per
/// sample: sample i's draws come from its own generator, so that a sample
/// depends on neither the others in its batch nor how the batch is split
/// between cores.
struct PerSampleNoise {
    private var generators: [RandomGenerator]

    /// `count` streams, seeded by `count` draws of `rng`.
    init(count: Int, seededFrom rng: inout RandomGenerator) {
        generators = (0..<count).map { _ in RandomGenerator(seed: rng.next()) }
    }

    private init(generators: [RandomGenerator]) { self.generators = generators }

    /// The streams of the samples in `rows`.
    func rows(_ rows: Range<Int>) -> PerSampleNoise { PerSampleNoise(generators: Array(generators[rows])) }

    /// Uniform floats in [0, 1), [samples] + `shape`: each sample's from its stream.
    mutating func uniform(_ shape: [Int]) -> Tensor {
        Tensor(shape: [generators.count] + shape, scalars: draws(shape) { $0.nextUniform() })
    }

    /// Integers uniform in `range`, [samples] + `shape`: each sample's from its stream.
    mutating func integers(_ shape: [Int], in range: Range<Int>) -> IntTensor {
        IntTensor(shape: [generators.count] + shape, scalars: draws(shape) { $0.nextInt(in: range) })
    }

    /// `shape`'s worth of `draw` from each sample's stream in turn.
    private mutating func draws<Value>(_ shape: [Int], _ draw: (inout RandomGenerator) -> Value) -> [Value] {
        let perSample = shape.reduce(1, *)
        var values: [Value] = []
        values.reserveCapacity(generators.count * perSample)
        for i in generators.indices {
            for _ in 0..<perSample { values.append(draw(&generators[i])) }
        }
        return values
    }
}

extension IntTensor {
    /// The rows `rows` along the first axis.
    func rows(_ rows: Range<Int>) -> IntTensor {
        let perRow = shape.dropFirst().reduce(1, *)
        return IntTensor(
            shape: [rows.count] + shape.dropFirst(),
            scalars: Array(scalars[(rows.lowerBound * perRow)..<(rows.upperBound * perRow)]))
    }

    /// `parts` joined along the first axis (all of the same shape beyond it).
    static func joined(_ parts: [IntTensor]) -> IntTensor {
        precondition(!parts.isEmpty, "IntTensor.joined: no parts")
        let rest = Array(parts[0].shape.dropFirst())
        precondition(
            parts.allSatisfy { Array($0.shape.dropFirst()) == rest },
            "IntTensor.joined: parts of shapes \(parts.map(\.shape)) differ beyond the first axis")
        return IntTensor(shape: [parts.reduce(0) { $0 + $1.shape[0] }] + rest, scalars: parts.flatMap(\.scalars))
    }
}

/// Splits `count` samples into one contiguous group per core and runs
/// `body(group, rows)` for each group as an independent task, on a core of
/// its own (``Compute/runIndependently(_:_:)``): the results, in group order.
///
/// For work on a batch of samples whose steps are a few dozen operations on
/// a small tensor each (a step of the reverse chain, a term of the bound):
/// too short to split each one between cores without the cores waiting for
/// each other after every operation, while the samples never interact.
func inGroupsPerCore<Result>(_ count: Int, _ body: (_ group: Int, _ rows: Range<Int>) -> Result) -> [Result] {
    let groups = max(1, min(Compute.threadsPerOperation, count))
    let perGroup = max(1, (count + groups - 1) / groups)
    let ranges = stride(from: 0, to: max(count, 1), by: perGroup).map { $0..<min($0 + perGroup, count) }
    var results = [Result?](repeating: nil, count: ranges.count)
    results.withUnsafeMutableBufferPointer { results in
        Compute.runIndependently(ranges.count) { group in results[group] = body(group, ranges[group]) }
    }
    return results.map { $0! }
}

/// Runs `body` on the `count` samples of a batch in groups, one per core
/// (``inGroupsPerCore(_:_:)``), for inference: without gradients, with the
/// weights rearranged once (``withCachedWeights(_:)``), and with a noise
/// stream per sample seeded in turn from `rng` (``PerSampleNoise``), so the
/// results do not depend on the number of cores. `body` gets its group's
/// rows, their noise and a progress callback: only the first group's, the
/// largest, reaches `progress` (the groups run at about the same pace).
func inferenceInGroupsPerCore<Result>(
    _ count: Int, seededFrom rng: inout RandomGenerator, progress: (Int) -> Void,
    _ body: (_ rows: Range<Int>, _ noise: inout PerSampleNoise, _ progress: (Int) -> Void) -> Result
) -> [Result] {
    let noise = PerSampleNoise(count: count, seededFrom: &rng)
    return withoutGradient {
        withCachedWeights {
            withoutActuallyEscaping(progress) { progress in
                inGroupsPerCore(count) { group, rows in
                    var groupNoise = noise.rows(rows)
                    return body(rows, &groupNoise, group == 0 ? progress : { _ in })
                }
            }
        }
    }
}

/// What a reverse chain returns: the samples and the kept frames.
typealias ChainResult = (samples: IntTensor, frames: [(t: Int, images: IntTensor)])

extension DiscreteDiffusion {
    /// Runs the reverse chains of a batch in groups, one per core
    /// (``inferenceInGroupsPerCore(_:seededFrom:progress:_:)``): every sample
    /// has its own noise stream, so the samples are the same whatever the
    /// number of cores.
    ///
    /// `chain` runs one group: its labels, its noise and a progress callback.
    func sampleIndependently(
        labels: IntTensor, using rng: inout RandomGenerator, progress: (Int) -> Void,
        chain: (_ labels: IntTensor, _ noise: inout PerSampleNoise, _ progress: (Int) -> Void) -> ChainResult
    ) -> ChainResult {
        let parts = withoutActuallyEscaping(chain) { chain in
            inferenceInGroupsPerCore(labels.count, seededFrom: &rng, progress: progress) { rows, noise, progress in
                chain(labels.rows(rows), &noise, progress)
            }
        }
        let frames = parts[0].frames.indices.map { index in
            (t: parts[0].frames[index].t, images: IntTensor.joined(parts.map { $0.frames[index].images }))
        }
        return (IntTensor.joined(parts.map(\.samples)), frames)
    }
}
