import D3PM
import Datasets
import Diffusion
import Foundation
import NN
import Solutions
import Tensors
import Testing

@Suite("TinyX0Model and training")
struct TrainingTests {
    /// `values` reversed along axis `axis` of `shape`.
    func reversed<T>(_ values: [T], shape: [Int], axis: Int) -> [T] {
        let inner = shape[(axis + 1)...].reduce(1, *), size = shape[axis]
        return values.indices.map { i in
            let position = (i / inner) % size
            return values[i + (size - 1 - 2 * position) * inner]
        }
    }

    @Test func outputIsLaidOutBatchChannelHeightWidthClasses() {
        let model = TinyX0Model(seed: 1)
        var rng = RandomGenerator(seed: 2)
        let xt = IntTensor.random([2, 1, 4, 6], in: 0..<4, using: &rng)
        let (t, y) = (IntTensor([5, 100]), IntTensor([3, 8]))
        let logits = model(xt, t, y)
        // A non-square image shows a swap of H and W in the shape.
        #expect(logits.shape == [2, 1, 4, 6, 4])
        // Mirroring the image's width and every kernel's width mirrors the
        // output's width; with H and W swapped in the output, it would mirror
        // the output's height instead.
        var mirroredModel = model
        mirroredModel.visitParameters { _, p in
            if p.rank == 4 { p = Tensor(shape: p.shape, scalars: reversed(p.scalars, shape: p.shape, axis: 3)) }
        }
        let mirroredInput = IntTensor(shape: xt.shape, scalars: reversed(xt.scalars, shape: xt.shape, axis: 3))
        let mirroredOutput = mirroredModel(mirroredInput, t, y)
        let expected = Tensor(shape: logits.shape, scalars: reversed(logits.scalars, shape: logits.shape, axis: 3))
        #expect(allClose(mirroredOutput, expected, rtol: 1e-4, atol: 1e-4))
    }

    @Test func parameterNamesFollowThePyTorchModule() {
        let names = TinyX0Model().namedParameters.map(\.name)
        #expect(names.contains("down1.0.weight") && names.contains("down2.4.bias") && names.contains("up1.0.weight"))
        #expect(
            names.contains("condEmbedding.weight") && names.contains("final.weight") && names.contains("tProj2.bias"))
        #expect(TinyX0Model().parameterCount == 98_020)
    }

    /// A few steps on a small subset: the loss falls.
    @Test func smokeTrainingLowersTheLoss() throws {
        var trainer = Trainer(
            model: TinyX0Model(seed: 0), optimizer: AdamW(learningRate: 3e-3),
            diffusion: DiscreteDiffusion(exercises: ReferenceSolutions.self))
        let losses = try trainBriefly(&trainer, images: 256, batchSize: 32, steps: 24)
        let first = losses.prefix(4).reduce(0, +) / 4, last = losses.suffix(4).reduce(0, +) / 4
        #expect(last < 0.7 * first, "loss \(first) -> \(last)")
        #expect(losses.allSatisfy { $0.isFinite })
    }

    @Test func checkpointRoundTripsBitForBit() throws {
        let data = try MNIST(split: .test, directory: MNISTTests.shipped)
        let diffusion = DiscreteDiffusion(exercises: ReferenceSolutions.self)
        var trainer = Trainer(model: TinyX0Model(seed: 4), optimizer: AdamW(), diffusion: diffusion)
        for step in 0..<2 {
            let (x0, y) = data.batch(Array((step * 8)..<(step * 8 + 8)), levels: 4)
            _ = trainer.step(x0: x0, y: y, seed: UInt64(step))
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "d3pm-checkpoint-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let progress = TrainingProgress(
            step: 2, seed: 0, batchSize: 8, learningRate: 1e-3, configuration: diffusion.configuration)
        try TrainingCheckpoint.save(model: trainer.model, optimizer: trainer.optimizer, progress: progress, to: url)
        let loaded = try TrainingCheckpoint.load(from: url)
        #expect(loaded.progress == progress)
        #expect(bits(loaded.model) == bits(trainer.model))
        #expect(bits(loaded.optimizer) == bits(trainer.optimizer) && loaded.optimizer.step == 2)
    }

    /// The command's run, stopped after step 3 and resumed, takes the same
    /// steps as an unbroken one: same weights bit for bit, same loss log
    /// (with a decaying learning rate, so the resumed run must also pick up
    /// the schedule where it stood).
    @Test func aStoppedRunResumesExactly() throws {
        let data = try MNIST(split: .test, directory: MNISTTests.shipped)
        let images = FirstImages(data: data, count: 40)
        let diffusion = DiscreteDiffusion(exercises: ReferenceSolutions.self)
        let settings = TrainingSettings(
            model: .tiny, seed: 9, batchSize: 8, learningRate: 1e-3, learningRateSchedule: .cosine(steps: 7),
            configuration: diffusion.configuration)
        let straightFolder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "d3pm-run-\(UUID().uuidString)")
        let brokenFolder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "d3pm-run-\(UUID().uuidString)")
        defer { for folder in [straightFolder, brokenFolder] { try? FileManager.default.removeItem(at: folder) } }

        var straight = try TrainingRun(starting: settings, diffusion: diffusion, in: straightFolder)
        #expect(try straight.run(totalSteps: 7, images: images) == .finished)

        var broken = try TrainingRun(starting: settings, diffusion: diffusion, in: brokenFolder)
        var steps = 0
        #expect(
            try broken.run(totalSteps: 7, images: images, progress: { _ in steps += 1 }, shouldStop: { steps == 3 })
                == .stopped)
        #expect(throws: TrainingRun.Failure.self) {
            try TrainingRun(starting: settings, diffusion: diffusion, in: brokenFolder)
        }
        var resumed = try TrainingRun(resuming: settings, diffusion: diffusion, in: brokenFolder)
        #expect(resumed.step == 3)
        #expect(try resumed.run(totalSteps: 7, images: images) == .finished)

        #expect(
            bits(try TrainingCheckpoint.load(from: resumed.checkpointURL).model)
                == bits(try TrainingCheckpoint.load(from: straight.checkpointURL).model))
        func losses(_ run: TrainingRun) throws -> [String] {
            try LossLog.rows(in: run.logURL, throughStep: .max).map {
                $0.split(separator: ",").dropLast().joined(separator: ",")
            }
        }
        #expect(try losses(resumed) == losses(straight) && losses(straight).count == 8)
    }

    @Test func cosineScheduleFallsFromTheBaseRateToZero() {
        let schedule = LearningRateSchedule.cosine(steps: 10)
        #expect(schedule.rate(base: 2e-3, afterSteps: 0) == 2e-3)
        #expect(abs(schedule.rate(base: 2e-3, afterSteps: 5) - 1e-3) < 1e-9)
        #expect(abs(schedule.rate(base: 2e-3, afterSteps: 2) - 1e-3 * Float(1 + cos(Double.pi / 5))) < 1e-9)
        #expect(schedule.rate(base: 2e-3, afterSteps: 10) == 0 && schedule.rate(base: 2e-3, afterSteps: 25) == 0)
        let rates = (0...10).map { schedule.rate(base: 1, afterSteps: $0) }
        #expect(zip(rates, rates.dropFirst()).allSatisfy { $0 > $1 }, "the rate falls at every step: \(rates)")
        #expect(LearningRateSchedule.constant.rate(base: 3e-4, afterSteps: 1000) == 3e-4)
        #expect(LearningRateSchedule(decaySteps: 0) == .constant)
        #expect(LearningRateSchedule(decaySteps: 10) == schedule)
    }

    /// The run applies the schedule: once the rate has reached zero, further
    /// steps leave the weights (decay included) exactly as they were, while
    /// the same steps at a constant rate move them.
    @Test func aRunFollowsItsLearningRateSchedule() throws {
        let data = try MNIST(split: .test, directory: MNISTTests.shipped)
        let images = FirstImages(data: data, count: 24)
        let diffusion = DiscreteDiffusion(exercises: ReferenceSolutions.self)
        func weights(after steps: Int, _ schedule: LearningRateSchedule) throws -> [String: [UInt32]] {
            let settings = TrainingSettings(
                model: .tiny, seed: 4, batchSize: 8, learningRate: 1e-3, learningRateSchedule: schedule,
                configuration: diffusion.configuration)
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
                "d3pm-run-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: folder) }
            var run = try TrainingRun(starting: settings, diffusion: diffusion, in: folder)
            _ = try run.run(totalSteps: steps, images: images)
            #expect(try TrainingCheckpoint.load(from: run.checkpointURL).progress.learningRateSchedule == schedule)
            return bits(run.trainer.model)
        }
        #expect(try weights(after: 3, .cosine(steps: 1)) == weights(after: 1, .cosine(steps: 1)))
        #expect(try weights(after: 3, .constant) != weights(after: 1, .constant))
    }

    @Test func resumingWithOtherSettingsNamesEachDifference() throws {
        let data = try MNIST(split: .test, directory: MNISTTests.shipped)
        let diffusion = DiscreteDiffusion(exercises: ReferenceSolutions.self)
        let settings = TrainingSettings(
            model: .tiny, seed: 9, batchSize: 8, learningRate: 1e-3, configuration: diffusion.configuration)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("d3pm-run-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var run = try TrainingRun(starting: settings, diffusion: diffusion, in: folder)
        _ = try run.run(totalSteps: 1, images: FirstImages(data: data, count: 8))
        var other = settings
        other.model = .unet
        other.batchSize = 16
        do {
            _ = try TrainingRun(resuming: other, diffusion: diffusion, in: folder)
            Issue.record("resumed with other settings")
        } catch TrainingRun.Failure.settingsDiffer(_, let differences) {
            #expect(differences == ["model: unet (checkpoint: tiny)", "batch size: 16 (checkpoint: 8)"])
        }
    }

    @Test func jumpingEveryStepIsTheFullChainAndFewerJumpsSkipEvenly() {
        var configuration = DiffusionConfiguration()
        configuration.numSteps = 12
        let diffusion = DiscreteDiffusion(exercises: ReferenceSolutions.self, configuration: configuration)
        let model = TinyX0Model(seed: 2), labels = IntTensor([3, 8])
        var first = RandomGenerator(seed: 5), second = RandomGenerator(seed: 5)
        let chain = diffusion.sample(model: model, labels: labels, height: 6, width: 4, using: &first).samples
        let jumped = diffusion.sample(model: model, labels: labels, jumps: 12, height: 6, width: 4, using: &second)
            .samples
        #expect(chain == jumped, "a jump of one step is one step of the chain")
        #expect(diffusion.jumpSchedule(4) == [12, 9, 6, 3, 0])
        var rng = RandomGenerator(seed: 6)
        var visited: [Int] = []
        let (few, frames) = diffusion.sample(model: model, labels: labels, jumps: 3, height: 6, width: 4, using: &rng) {
            visited.append($0)
        }
        #expect(visited == [12, 8, 4] && frames.map(\.t) == [12, 8, 4, 0])
        #expect(few.shape == [2, 1, 6, 4] && few.scalars.allSatisfy { (0..<4).contains($0) })
    }

    @Test func aStepSplitBetweenCoresTakesTheWholeBatchsLossAndGradient() async {
        // The thread count is a process-wide setting: changed in a process of its own.
        await #expect(processExitsWith: .success) {
            var configuration = DiffusionConfiguration()
            configuration.corruption = .absorbing
            let diffusion = DiscreteDiffusion(exercises: ReferenceSolutions.self, configuration: configuration)
            var rng = RandomGenerator(seed: 4)
            let x0 = IntTensor.random([5, 1, 8, 8], in: 0..<4, using: &rng)
            let y = IntTensor([1, 2, 3, 4, 5])
            func step(threads: Int) -> (Trainer.StepReport, [Tensor]) {
                Compute.configure(ComputeConfiguration(threads: threads))
                var trainer = Trainer(
                    model: TinyX0Model(withNoLabel: true, seed: 1), optimizer: AdamW(), diffusion: diffusion,
                    labelDropout: 0.3)
                let report = trainer.step(x0: x0, y: y, seed: 6)
                return (report, trainer.model.namedParameters.map(\.value))
            }
            let (whole, wholeWeights) = step(threads: 1)
            let (split, splitWeights) = step(threads: 2)
            let close = { (a: Float, b: Float) in abs(a - b) <= 1e-5 * max(1, abs(a)) }
            exit(
                close(whole.loss, split.loss) && close(whole.vb, split.vb) && close(whole.ce, split.ce)
                    && close(whole.gradientNorm, split.gradientNorm)
                    && zip(wholeWeights, splitWeights).allSatisfy { zip($0.scalars, $1.scalars).allSatisfy(close) }
                    ? 0 : 1)
        }
    }

    // Bit for bit where the matrix products are the kit's own: Accelerate's
    // (macOS) may round a product of other rows differently.
    #if !canImport(Accelerate)
        @Test func aSampleDependsOnItsOwnNoiseAloneNotOnItsBatch() {
            var configuration = DiffusionConfiguration()
            configuration.numSteps = 12
            let diffusion = DiscreteDiffusion(exercises: ReferenceSolutions.self, configuration: configuration)
            let model = TinyX0Model(seed: 2)
            var first = RandomGenerator(seed: 7), second = RandomGenerator(seed: 7)
            let batch = diffusion.sample(
                model: model, labels: IntTensor([3, 8, 1, 5, 0]), height: 6, width: 4, using: &first)
            let alone = diffusion.sample(model: model, labels: IntTensor([3, 8]), height: 6, width: 4, using: &second)
            #expect(Array(batch.samples.scalars.prefix(alone.samples.count)) == alone.samples.scalars)
        }
    #endif

    // Bit for bit where the matrix products are the kit's own: Accelerate's
    // (macOS) may round a product of other rows differently.
    #if !canImport(Accelerate)
        @Test func samplesAndTheBoundAreTheSameOnAnyNumberOfCores() async {
            // The thread count is a process-wide setting: changed in a process of its own.
            await #expect(processExitsWith: .success) {
                var configuration = DiffusionConfiguration()
                configuration.numSteps = 12
                let diffusion = DiscreteDiffusion(exercises: ReferenceSolutions.self, configuration: configuration)
                let model = TinyX0Model(seed: 2), labels = IntTensor([3, 8, 1, 5, 0])
                func samples(threads: Int) -> [IntTensor] {
                    Compute.configure(ComputeConfiguration(threads: threads))
                    var first = RandomGenerator(seed: 7), second = RandomGenerator(seed: 7)
                    return [
                        diffusion.sample(model: model, labels: labels, height: 6, width: 4, using: &first).samples,
                        diffusion.sample(model: model, labels: labels, jumps: 5, height: 6, width: 4, using: &second)
                            .samples,
                    ]
                }
                func bound(threads: Int) -> [Double] {
                    Compute.configure(ComputeConfiguration(threads: threads))
                    var rng = RandomGenerator(seed: 8)
                    let x0 = IntTensor.random([5, 1, 6, 4], in: 0..<4, using: &rng)
                    let bound = diffusion.likelihoodBound(model: model, x0: x0, y: labels, using: &rng)
                    return [bound.prior, bound.reconstruction] + bound.terms
                }
                let one = samples(threads: 1), boundOnOne = bound(threads: 1)
                exit(
                    samples(threads: 2) == one && samples(threads: 3) == one && bound(threads: 2) == boundOnOne
                        && bound(threads: 3) == boundOnOne ? 0 : 1)
            }
        }
    #endif

    @Test func samplingRunsTheWholeChain() {
        var rng = RandomGenerator(seed: 3)
        var configuration = DiffusionConfiguration()
        configuration.numSteps = 20
        let diffusion = DiscreteDiffusion(exercises: ReferenceSolutions.self, configuration: configuration)
        var steps: [Int] = []
        let (samples, frames) = diffusion.sample(
            model: TinyX0Model(), labels: IntTensor([1, 7]), height: 8, width: 6, frameStride: 5, using: &rng
        ) { steps.append($0) }
        #expect(samples.shape == [2, 1, 8, 6] && Set(samples.scalars).isSubset(of: [0, 1, 2, 3]))
        #expect(steps == Array((1...20).reversed()))
        #expect(frames.map(\.t) == [20, 15, 10, 5, 0])
        #expect(frames.last!.images == samples)
    }
}

@Suite("Other corruptions and the likelihood bound")
struct CorruptionTests {
    func diffusion(_ corruption: Corruption, _ schedule: NoiseSchedule, steps: Int = 8) -> DiscreteDiffusion {
        var configuration = DiffusionConfiguration()
        configuration.corruption = corruption
        configuration.schedule = schedule
        configuration.numSteps = steps
        return DiscreteDiffusion(exercises: ReferenceSolutions.self, configuration: configuration)
    }

    @Test(arguments: [(Corruption.uniform, NoiseSchedule.cosine), (.absorbing, .inverse), (.gaussian, .linear)])
    func trainingStepAndSamplingRunForEveryCorruption(_ setting: (Corruption, NoiseSchedule)) {
        let d = diffusion(setting.0, setting.1)
        var rng = RandomGenerator(seed: 1)
        let x0 = IntTensor.random([4, 1, 6, 4], in: 0..<4, using: &rng)
        var trainer = Trainer(model: TinyX0Model(), optimizer: AdamW(), diffusion: d)
        let report = trainer.step(x0: x0, y: IntTensor([1, 2, 3, 4]), seed: 3)
        #expect(report.loss.isFinite && report.ce > 0)
        let (samples, frames) = d.sample(
            model: trainer.model, labels: IntTensor([0, 5]), height: 6, width: 4, frameStride: 4, using: &rng)
        #expect(Set(samples.scalars).isSubset(of: [0, 1, 2, 3]), "no [MASK] or out-of-range value survives to t = 0")
        if setting.0 == .absorbing {
            #expect(frames[0].images.scalars.allSatisfy { $0 == 4 }, "the chain starts all [MASK]")
        }
    }

    @Test func boundTermsAreNonNegativeAndThePriorVanishesWhenEverythingIsMasked() {
        var rng = RandomGenerator(seed: 2)
        let x0 = IntTensor.random([3, 1, 4, 4], in: 0..<4, using: &rng)
        let y = IntTensor([0, 1, 2])
        let absorbing = diffusion(.absorbing, .inverse).likelihoodBound(model: TinyX0Model(), x0: x0, y: y, using: &rng)
        #expect(abs(absorbing.prior) < 1e-4)
        #expect(absorbing.terms.count == 7 && absorbing.terms.allSatisfy { $0 > -1e-4 })
        #expect(
            absorbing.reconstruction > 0
                && abs(absorbing.total - (absorbing.prior + absorbing.terms.reduce(0, +) + absorbing.reconstruction))
                    < 1e-9
        )
        let uniform = diffusion(.uniform, .linear).likelihoodBound(model: TinyX0Model(), x0: x0, y: y, using: &rng)
        // After 8 small steps the uniform chain is far from its stationary distribution.
        #expect(uniform.prior > 1 && uniform.bitsPerDimension > 0)
    }

    @Test func schedulesFollowTheirDefinitions() {
        let inverse = NoiseSchedule.inverse.betas(steps: 4).scalars
        #expect(inverse == [0.25, 1 / 3, 0.5, 1])
        let cosine = NoiseSchedule.cosine.betas(steps: 100).scalars
        #expect(cosine.allSatisfy { $0 > 0 && $0 <= 0.999 } && cosine.first! < 0.001 && cosine.last! == 0.999)
        #expect(zip(cosine, cosine.dropFirst()).allSatisfy { $0 <= $1 })
    }
}

@Suite("Digit classifier")
struct DigitClassifierTests {
    @Test func learnsAndRoundTripsThroughAFile() throws {
        let data = try MNIST(split: .test, directory: MNISTTests.shipped)
        var classifier = DigitClassifier(seed: 1)
        var optimizer = AdamW(learningRate: 2e-3)
        var losses: [Float] = []
        for step in 0..<30 {
            let (images, labels) = data.batch(Array((step % 6 * 64)..<(step % 6 * 64 + 64)), levels: 4)
            let (loss, gradient) = valueWithGradient(at: classifier) { crossEntropy($0(images), targets: labels) }
            optimizer.update(&classifier, along: gradient)
            losses.append(loss.item)
        }
        let first: Float = losses.prefix(6).reduce(0, +), last: Float = losses.suffix(6).reduce(0, +)
        #expect(last < 0.6 * first, "loss \(first / 6) -> \(last / 6)")
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "d3pm-classifier-\(UUID().uuidString).safetensors")
        try classifier.save(to: url, testAccuracy: 0.5)
        let (loaded, accuracy) = try DigitClassifier.load(from: url)
        try? FileManager.default.removeItem(at: url)
        let (images, _) = data.batch(Array(0..<16), levels: 4)
        #expect(loaded.predict(images) == classifier.predict(images) && accuracy == 0.5)
    }
}

@Suite("The coordinates model")
struct CoordinatesModelTests {
    @Test func seesRowAndColumnAndSurvivesACheckpoint() throws {
        let model = TinyX0Model(coordinates: true, seed: 2)
        #expect(model.down1.conv1.weight.shape == [32, 3, 3, 3])
        let xt = IntTensor.full([2, 1, 6, 4], 1)
        let logits = model(xt, IntTensor([3, 9]), IntTensor([0, 0]))
        #expect(logits.shape == [2, 1, 6, 4, 4])
        // A constant image still gives different logits at different places.
        #expect(logits[0][0][0][0].scalars != logits[0][0][5][3].scalars)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "d3pm-coords-\(UUID().uuidString).safetensors")
        let progress = TrainingProgress(
            step: 0, seed: 0, batchSize: 2, learningRate: 1e-3, configuration: DiffusionConfiguration())
        try TrainingCheckpoint.save(model: model, optimizer: AdamW(), progress: progress, to: url)
        let loaded = try TrainingCheckpoint.load(from: url).model
        try? FileManager.default.removeItem(at: url)
        #expect(
            loaded.architecture == .coords
                && loaded(xt, IntTensor([3, 9]), IntTensor([0, 0])).scalars == logits.scalars)
    }
}

@Suite("The U-Net model")
struct UNetModelTests {
    @Test func outputIsLaidOutBatchChannelHeightWidthClassesOnANonSquareImage() {
        let model = UNetX0Model(seed: 1)
        var rng = RandomGenerator(seed: 2)
        let xt = IntTensor.random([2, 1, 8, 12], in: 0..<4, using: &rng)
        #expect(model(xt, IntTensor([5, 100]), IntTensor([3, 8])).shape == [2, 1, 8, 12, 4])
    }

    @Test func cachedWeightsGiveTheSameBitsAsWeightsRearrangedAtEveryCall() {
        // Every layer kind whose weight is rearranged for its kernel: 3 x 3
        // (Winograd and direct), 1 x 1 and transposed convolutions, linear maps.
        let model = UNetX0Model(seed: 5)
        var rng = RandomGenerator(seed: 6)
        let xt = IntTensor.random([3, 1, 28, 28], in: 0..<5, using: &rng)
        let (t, y) = (IntTensor([1, 70, 200]), IntTensor([0, 4, 9]))
        let fresh = model(xt, t, y)
        withCachedWeights {
            #expect(model(xt, t, y).scalars == fresh.scalars, "first call")
            #expect(model(xt, t, y).scalars == fresh.scalars, "from the cache")
        }
    }

    @Test func theLabelReachesEveryPixel() {
        let model = UNetX0Model(seed: 4)
        let xt = IntTensor.full([2, 1, 12, 12], 4)
        let logits = model(xt, IntTensor([200, 200]), IntTensor([1, 7]))
        let difference = abs(logits[0] - logits[1]).sum(axis: -1)
        #expect(difference.scalars.allSatisfy { $0 > 1e-4 })
    }

    @Test func trainsAndSurvivesACheckpoint() throws {
        var configuration = DiffusionConfiguration()
        configuration.corruption = .absorbing
        configuration.schedule = .inverse
        let diffusion = DiscreteDiffusion(exercises: ReferenceSolutions.self, configuration: configuration)
        var trainer = Trainer(model: UNetX0Model(seed: 5), optimizer: AdamW(learningRate: 3e-3), diffusion: diffusion)
        let losses = try trainBriefly(&trainer, images: 64, batchSize: 16, steps: 12)
        let first = losses.prefix(3).reduce(0, +) / 3, last = losses.suffix(3).reduce(0, +) / 3
        #expect(last < 0.7 * first, "loss \(first) -> \(last)")
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "d3pm-unet-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let progress = TrainingProgress(
            step: 12, seed: 0, batchSize: 16, learningRate: 3e-3, configuration: configuration)
        try TrainingCheckpoint.save(model: trainer.model, optimizer: trainer.optimizer, progress: progress, to: url)
        let loaded = try TrainingCheckpoint.load(from: url)
        #expect(loaded.model.architecture == .unet)
        let xt = IntTensor.full([1, 1, 28, 28], 4), t = IntTensor([100]), y = IntTensor([3])
        #expect(loaded.model(xt, t, y).scalars == trainer.model(xt, t, y).scalars)
    }
}

/// The first `count` images of a set.
struct FirstImages: TrainingImages {
    let data: MNIST
    let count: Int
    func batch(_ indices: [Int], levels: Int) -> (images: IntTensor, labels: IntTensor) {
        data.batch(indices, levels: levels)
    }
}

/// The bits of every parameter, by name.
func bits(_ container: ParameterContainer) -> [String: [UInt32]] {
    Dictionary(uniqueKeysWithValues: container.namedParameters.map { ($0.name, $0.value.scalars.map(\.bitPattern)) })
}

/// `steps` training steps on the first `images` test images, in seeded
/// batches; the loss of each step.
func trainBriefly(_ trainer: inout Trainer, images: Int, batchSize: Int, steps: Int) throws -> [Float] {
    let data = try MNIST(split: .test, directory: MNISTTests.shipped)
    let batches = MiniBatches(count: images, batchSize: batchSize, seed: 1)
    return (0..<steps).map { step in
        let (x0, y) = data.batch(
            batches.batch(step % batches.batchesPerEpoch, epoch: step / batches.batchesPerEpoch), levels: 4)
        return trainer.step(x0: x0, y: y, seed: UInt64(step)).loss
    }
}
