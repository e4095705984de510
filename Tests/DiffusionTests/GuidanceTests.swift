import D3PM
import Datasets
import Diffusion
import Foundation
import NN
import Solutions
import Tensors
import Testing

/// A model that records the labels it is given and predicts nothing.
struct LabelRecordingModel: X0Model {
    final class Record: @unchecked Sendable { var labels: [Int] = [] }
    let record = Record()
    var numClasses: Int { 4 }
    var architecture: ModelArchitecture { .tiny }
    var noLabel: Int? { 10 }

    func callAsFunction(_ xt: IntTensor, _ t: IntTensor, _ y: IntTensor) -> Tensor {
        record.labels += y.scalars
        return Tensor.zeros(xt.shape + [numClasses])
    }

    mutating func visitParameters(_ body: (String, inout Tensor) -> Void) {}
}

@Suite("Classifier-free guidance")
struct GuidanceTests {
    func absorbing(steps: Int = 8) -> DiscreteDiffusion {
        var configuration = DiffusionConfiguration()
        configuration.numSteps = steps
        configuration.corruption = .absorbing
        configuration.schedule = .inverse
        return DiscreteDiffusion(exercises: ReferenceSolutions.self, configuration: configuration)
    }

    @Test func labelDropoutGivesTheNoLabelToAboutThatFractionAndKeepsTheOtherLabels() {
        let model = LabelRecordingModel()
        var rng = RandomGenerator(seed: 3)
        let y = IntTensor((0..<2000).map { $0 % 10 })
        _ = absorbing().loss(
            model: model, x0: IntTensor.zeros([2000, 1, 2, 2]), y: y, labelDropout: 0.25, using: &rng)
        let seen = model.record.labels
        let dropped = seen.filter { $0 == 10 }.count
        #expect((440...560).contains(dropped), "\(dropped) of 2000 labels dropped at p = 0.25")
        #expect(zip(seen, y.scalars).allSatisfy { $0 == 10 || $0 == $1 })
    }

    @Test func noDropoutLeavesEveryLabel() {
        let model = LabelRecordingModel()
        var rng = RandomGenerator(seed: 3)
        let y = IntTensor((0..<100).map { $0 % 10 })
        _ = absorbing().loss(model: model, x0: IntTensor.zeros([100, 1, 2, 2]), y: y, using: &rng)
        #expect(model.record.labels == y.scalars)
    }

    @Test func guidedLogitsMixTheConditionalAndUnconditionalPredictions() {
        let diffusion = absorbing()
        let model = UNetX0Model(channels: 8, withNoLabel: true, seed: 4)
        #expect(model.noLabel == 10 && model.classEmbedding.weight.shape == [11, 32])
        var rng = RandomGenerator(seed: 5)
        let xt = IntTensor.random([3, 1, 8, 8], in: 0..<5, using: &rng)
        let t = IntTensor([2, 5, 8]), y = IntTensor([1, 7, 3])
        let conditional = model(xt, t, y), unconditional = model(xt, t, IntTensor.full([3], 10))
        #expect(
            diffusion.guidedLogits(model: model, xt: xt, t: t, y: y, guidance: 0).scalars
                == diffusion.stateLogits(conditional).scalars)
        let guided = diffusion.guidedLogits(model: model, xt: xt, t: t, y: y, guidance: 2)
        let expected = diffusion.stateLogits(conditional * 3 - unconditional * 2)
        #expect(guided.shape == [3, 1, 8, 8, 5])
        #expect(zip(guided.scalars, expected.scalars).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($1)) })
        #expect(guided.scalars != diffusion.stateLogits(conditional).scalars, "guidance changed nothing")
    }

    @Test func guidedSamplingInJumpsAndStepByStepDrawsGrayLevels() {
        let diffusion = absorbing()
        let model = TinyX0Model(channels: 8, withNoLabel: true, seed: 6)
        var rng = RandomGenerator(seed: 7)
        let labels = IntTensor([0, 9])
        let (jumped, _) = diffusion.sample(
            model: model, labels: labels, jumps: 3, guidance: 1.5, height: 8, width: 8, using: &rng)
        let (full, _) = diffusion.sample(
            model: model, labels: labels, guidance: 1.5, height: 8, width: 8, using: &rng)
        for samples in [jumped, full] {
            #expect(samples.shape == [2, 1, 8, 8] && samples.scalars.allSatisfy { (0..<4).contains($0) })
        }
    }

    @Test func aRunWithLabelDropoutCheckpointsItAndRefusesToResumeWithout() throws {
        let data = try MNIST(split: .test, directory: MNISTTests.shipped)
        let diffusion = DiscreteDiffusion(exercises: ReferenceSolutions.self)
        let settings = TrainingSettings(
            model: .tiny, seed: 2, batchSize: 8, learningRate: 1e-3, configuration: diffusion.configuration,
            labelDropout: 0.1)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("d3pm-cfg-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var run = try TrainingRun(starting: settings, diffusion: diffusion, in: folder)
        #expect(run.trainer.model.noLabel == 10)
        _ = try run.run(totalSteps: 2, images: FirstImages(data: data, count: 16))
        let saved = try TrainingCheckpoint.load(from: run.checkpointURL)
        #expect(saved.progress.labelDropout == 0.1 && saved.model.noLabel == 10)
        var other = settings
        other.labelDropout = 0
        do {
            _ = try TrainingRun(resuming: other, diffusion: diffusion, in: folder)
            Issue.record("resumed without the label dropout it was trained with")
        } catch TrainingRun.Failure.settingsDiffer(_, let differences) {
            #expect(differences == ["label dropout: 0.0 (checkpoint: 0.1)"])
        }
    }
}

@Suite("Fréchet distance")
struct FrechetDistanceTests {
    @Test func statisticsAreTheMeanAndTheUnbiasedCovariance() {
        let features = Tensor([[1, 2], [3, 6], [5, 4]])
        let statistics = FeatureStatistics(features: features)
        #expect(statistics.mean == [3, 4])
        // Centred rows (-2, -2), (0, 2), (2, 0): sums of products / (3 - 1).
        #expect(statistics.covariance == [4, 2, 2, 4])
    }

    @Test func isZeroBetweenEqualStatisticsAndTheSquaredShiftBetweenShiftedOnes() {
        let c = [2.0, 0.5, 0.5, 1.0]
        let a = FeatureStatistics(count: 10, mean: [0, 0], covariance: c)
        let b = FeatureStatistics(count: 10, mean: [3, 4], covariance: c)
        #expect(abs(a.frechetDistance(to: a)) < 1e-9)
        #expect(abs(a.frechetDistance(to: b) - 25) < 1e-9)
    }

    @Test func ofDiagonalCovariancesIsTheSumOfSquaredDifferencesOfStandardDeviations() {
        let a = FeatureStatistics(count: 10, mean: [0, 0, 0], covariance: [4, 0, 0, 0, 1, 0, 0, 0, 9])
        let b = FeatureStatistics(count: 10, mean: [0, 0, 0], covariance: [1, 0, 0, 0, 1, 0, 0, 0, 16])
        #expect(abs(a.frechetDistance(to: b) - (1 + 0 + 1)) < 1e-9)
    }

    @Test func matchesTheClosedFormForCovariancesThatDoNotCommute() {
        // For 2 x 2 matrices with positive eigenvalues, tr(sqrt(M)) = sqrt(tr M + 2 sqrt(det M)).
        let c1 = [2.0, 1.0, 1.0, 3.0], c2 = [1.0, -0.4, -0.4, 0.5]
        let product = [
            c1[0] * c2[0] + c1[1] * c2[2], c1[0] * c2[1] + c1[1] * c2[3],
            c1[2] * c2[0] + c1[3] * c2[2], c1[2] * c2[1] + c1[3] * c2[3],
        ]
        let determinant = product[0] * product[3] - product[1] * product[2]
        let traceOfRoot = (product[0] + product[3] + 2 * determinant.squareRoot()).squareRoot()
        let expected = 1.0 + (c1[0] + c1[3]) + (c2[0] + c2[3]) - 2 * traceOfRoot
        let a = FeatureStatistics(count: 10, mean: [1, 0], covariance: c1)
        let b = FeatureStatistics(count: 10, mean: [0, 0], covariance: c2)
        #expect(abs(a.frechetDistance(to: b) - expected) < 1e-9)
        #expect(abs(b.frechetDistance(to: a) - expected) < 1e-9, "the distance is symmetric")
    }

    @Test func growsWhenSamplesCollapseWhereAccuracyWouldNot() {
        var rng = RandomGenerator(seed: 8)
        let real = FeatureStatistics(features: Tensor.normal([4000, 16], using: &rng))
        let alsoReal = FeatureStatistics(features: Tensor.normal([4000, 16], using: &rng))
        let collapsed = FeatureStatistics(features: Tensor.normal([4000, 16], using: &rng) * 0.2)
        let floor = real.frechetDistance(to: alsoReal)
        #expect(floor < 0.2, "two samples of one Gaussian: \(floor)")
        // Each of 16 dimensions loses (1 - 0.2)^2 = 0.64.
        #expect(abs(real.frechetDistance(to: collapsed) - 16 * 0.64) < 0.5)
    }
}

@Suite("Classifier features")
struct ClassifierFeatureTests {
    @Test func judgingInBatchesPredictsAsTheClassifierDoesAndGivesItsFeatures() throws {
        let data = try MNIST(split: .test, directory: MNISTTests.shipped)
        let classifier = DigitClassifier(seed: 2)
        let (images, _) = data.batch(Array(0..<23), levels: 4)
        let (predicted, features) = classifier.judge(images, batchSize: 5)
        #expect(predicted == classifier.predict(images).scalars)
        #expect(features.shape == [23, DigitClassifier.featureSize])
        #expect(features.scalars == classifier.features(images).scalars)
    }

    @Test func aClassifierOfAnEarlierKitIsRefusedWithTheFix() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("d3pm-old-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: url) }
        try Safetensors.write(
            [(name: "output.weight", value: Tensor.zeros([10, 3136]))],
            metadata: ["format": "d3pm-kit-classifier@1", "num_classes": "4"], to: url)
        #expect {
            _ = try DigitClassifier.load(from: url)
        } throws: { error in
            "\(error)".contains("earlier kit") && "\(error)".contains("d3pm classifier")
        }
    }
}
