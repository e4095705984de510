import ArgumentParser
import CommandSupport
import Diffusion

/// What `sample --guidance` and `eval --guidance` share: the weights and the
/// refusal to guide a model that has no unconditional half.
enum GuidanceOption {
    /// The weights of a `--guidance` value: one, or several separated by commas, each a finite w >= 0.
    static func weights(_ text: String) throws -> [Float] {
        try text.split(separator: ",", omittingEmptySubsequences: false).map {
            let item = $0.trimmingCharacters(in: .whitespaces)
            guard let w = Float(item), w.isFinite, w >= 0 else {
                throw ValidationError(
                    "--guidance: '\(item)' is not a weight w >= 0 (give one, or several separated by commas)")
            }
            return w
        }
    }

    /// Throws unless every weight is 0 or `model` was trained with label dropout.
    static func requireGuidable(_ weights: [Float], model: any X0Model, checkpoint: String) throws {
        guard weights.contains(where: { $0 != 0 }) && model.noLabel == nil else { return }
        throw CommandFailure(
            "\(checkpoint) was trained without label dropout, so it has no unconditional model to guide with: train with --label-dropout 0.1 (the unet's default), or leave out --guidance"
        )
    }
}
