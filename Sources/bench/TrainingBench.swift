import ArgumentParser
import D3PM
import Diffusion
import Foundation
import NN
import Solutions
import Tensors

/// Training images per second of a model (TinyX0Model by default) at batch 128 (random images,
/// the reference solutions), and the seconds to sample 16 images through the
/// full 200-step chain.
struct TrainingSpeed: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Training images/s and sampling time of a model (TinyX0Model by default).")

    @Option(help: "Timed training steps (after one warm-up step).")
    var steps = 5

    @Option(help: "Images per batch.")
    var batchSize = 128

    @Flag(help: "Also time the full reverse chain for 16 samples.")
    var sampling = false

    @Option(help: "The model: tiny, coords or unet.")
    var model: ModelArchitecture = .tiny

    @Flag(help: "Print the time of each part of one step.")
    var profile = false

    /// Multiply-adds of TinyX0Model per 28 x 28 image, forward: the convolutions
    /// 1->32 and 32->32 at 28 x 28, 32->64 and 64->64 at 14 x 14, the 2 x 2
    /// transposed one 64->32, two 32->32 at 28 x 28 and the 1 x 1 to 4 levels.
    static let tinyModelMultiplyAdds: Double =
        784 * 9 * (1 * 32 + 32 * 32) + 196 * 9 * (32 * 64 + 64 * 64) + 196 * 4 * 64 * 32 + 2 * 784 * 9 * 32 * 32 + 784
        * 32 * 4

    /// Multiply-adds of UNetX0Model (C = 32) per 28 x 28 image, forward: the
    /// 3x3 convolutions 3->32, 32->32 (enc1) and two 32->32 (dec1) at 28 x 28;
    /// 32->64, 64->64 (enc2) and two 64->64 (dec2) at 14 x 14; 64->128 and
    /// 128->128 (enc3) at 7 x 7; attention over 49 pixels of 128 channels
    /// (queries, keys and values, two 49 x 49 products, the projection); the
    /// transposed 2 x 2 convolutions 128->64 and 64->32; the 1 x 1 to 4 levels.
    static let unetModelMultiplyAdds: Double =
        784 * 9 * (3 * 32 + 3 * 32 * 32) + 196 * 9 * (32 * 64 + 3 * 64 * 64) + 49 * 9 * (64 * 128 + 128 * 128)
        + (49 * 128 * 384 + 2 * 49 * 49 * 128 + 49 * 128 * 128) + 49 * 4 * 128 * 64 + 196 * 4 * 64 * 32 + 784 * 32 * 4

    /// The forward multiply-adds per image of `model`.
    static func multiplyAdds(_ model: ModelArchitecture) -> Double {
        switch model {
        case .tiny: tinyModelMultiplyAdds
        case .coords: tinyModelMultiplyAdds + 784 * 9 * 2 * 32  // two coordinate channels into the first convolution
        case .unet: unetModelMultiplyAdds
        }
    }

    func run() throws {
        let machine = MachineReport()
        machine.print()
        var rng = RandomGenerator(seed: 3)
        let x0 = IntTensor.random([batchSize, 1, 28, 28], in: 0..<4, using: &rng)
        let y = IntTensor.random([batchSize], in: 0..<10, using: &rng)
        let diffusion = DiscreteDiffusion(exercises: ReferenceSolutions.self)
        var trainer = Trainer(model: model.makeModel(seed: 0), optimizer: AdamW(), diffusion: diffusion)
        _ = trainer.step(x0: x0, y: y, seed: 0)
        let seconds =
            bestTime(repeats: 1) { for s in 0..<steps { _ = trainer.step(x0: x0, y: y, seed: UInt64(s)) } }
            / Double(steps)
        print(
            String(
                format: "training: %.1f images/s (%.0f ms per step of %d images, %d threads)",
                Double(batchSize) / seconds, seconds * 1e3, batchSize, MatrixProduct.threadCount))
        // Forward and backward: three times the forward's 2 flops per multiply-add.
        let perImage = Self.multiplyAdds(model)
        print(
            "  the model's arithmetic (as direct products): \(machine.rate(flops: 6 * perImage * Double(batchSize), seconds: seconds)) (\(Int(6 * perImage / 1e6)) MFLOP per image)"
        )
        if profile {
            let model = trainer.model
            var r = RandomGenerator(seed: 1)
            let forward = bestTime(repeats: 2) {
                _ = withoutGradient { diffusion.loss(model: model, x0: x0, y: y, using: &r) }
            }
            print(String(format: "  forward only (no gradient): %.0f ms", forward * 1e3))
        }
        if sampling {
            let labels = IntTensor((0..<16).map { $0 % 10 })
            let model = trainer.model
            let time = bestTime(repeats: 1) {
                var r = RandomGenerator(seed: 4)
                _ = diffusion.sample(model: model, labels: labels, using: &r)
            }
            print(
                String(
                    format: "sampling: %.2f s for 16 images through %d steps", time, diffusion.configuration.numSteps))
            let flops = 2 * Self.multiplyAdds(self.model) * 16 * Double(diffusion.configuration.numSteps)
            print("  the model's arithmetic (as direct products): \(machine.rate(flops: flops, seconds: time))")
        }
        print(
            "(as direct products: the convolutions' multiply-adds counted as a direct convolution does them;"
                + " Winograd's F(4x4) and F(7x7) need 4 and 5.4 times fewer, so the rate may pass 100% of the peak)")
    }
}

extension ModelArchitecture: ExpressibleByArgument {}
