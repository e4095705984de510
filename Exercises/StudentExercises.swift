import D3PM
import Tensors

/// Your implementation of the practical.
///
/// Each exercise lives in its own file of this folder, as `static` functions
/// in an extension of this type. Replace each `notImplemented()` with your
/// code, then check it:
///
///     swift run grade exercise1
///
/// The functions may call each other (your `qSample` may use your
/// `gatherAt` and `gumbelMaxSample`), and the library's operations:
/// `softmax`, `logSoftmax`, `log`, `exp`, `matmul`, `vecmat`, `oneHot`,
/// `crossEntropy`, `stack`, `where`, advanced indexing `a[i, j]`. The README's
/// "From PyTorch" table maps the practical's PyTorch calls to them.
public enum StudentExercises: D3PMExercises {
    public static let name = "Student"
}
