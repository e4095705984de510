import D3PM
import Tensors

/// The reference implementations of the practical's functions.
///
/// The grader checks them exactly as it checks a student's
/// (`swift run grade all --solutions`), and training runs on them with
/// `--solutions`.
public enum ReferenceSolutions: D3PMExercises {
    public static let name = "Solutions"
}
