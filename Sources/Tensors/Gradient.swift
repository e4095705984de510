/// Reverse-mode automatic differentiation.
///
/// The kit takes gradients the functional way, as JAX and MLX do: a
/// function of tensors is handed to ``valueWithGradient(at:in:)``, which
/// runs it once on tracked copies of its inputs and returns the value and
/// the gradient of that (scalar) value with respect to each input.
///
/// ```swift
/// let (loss, dLogits) = valueWithGradient(at: logits) { logits in
///     crossEntropy(logits, targets: labels)
/// }
/// ```
///
/// While the function runs, every operation on a tracked tensor records a
/// ``GradNode`` that knows how to turn the gradient of its result into
/// gradients of its operands. Playing that record back from the result
/// (in reverse topological order) gives the gradients.

/// One recorded operation of the gradient graph.
final class GradNode: @unchecked Sendable {
    /// The nodes of the operands (nil for an untracked operand).
    private(set) var parents: [GradNode?]
    /// Maps the gradient of the result to the gradients of the operands; nil for a leaf.
    private(set) var backward: ((Tensor) -> [Tensor?])?
    /// The shape of the tensor this node produced.
    let shape: [Int]
    /// The name of the operation, for error messages.
    let op: String

    init(parents: [GradNode?], shape: [Int], op: String, backward: ((Tensor) -> [Tensor?])?) {
        self.parents = parents
        self.shape = shape
        self.op = op
        self.backward = backward
    }

    /// Frees the graph above this node without recursion: a node held only
    /// here gives up its operands to a list before it goes, so that its own
    /// release finds nothing left to free. Released the ordinary way, each
    /// node would free its operands from inside its own release, one stack
    /// frame per link: a long chain of operations would overflow a worker
    /// thread's stack (512 KB on macOS's dispatch threads).
    deinit {
        guard !parents.isEmpty else { return }
        var pending = parents.compactMap { $0 }
        parents = []
        backward = nil  // its captured operands are in `pending` too
        while var node = pending.popLast() {
            guard isKnownUniquelyReferenced(&node) else { continue }
            pending.append(contentsOf: node.parents.compactMap { $0 })
            node.parents = []
            node.backward = nil
        }
    }
}

/// Whether operations record gradient nodes on this task.
public enum GradientRecording {
    @TaskLocal static var isPaused = false
}

/// Runs `body` without recording gradients (PyTorch's `torch.no_grad()`):
/// results are untracked even when operands are tracked.
public func withoutGradient<R>(_ body: () throws -> R) rethrows -> R {
    try GradientRecording.$isPaused.withValue(true, operation: body)
}

extension Tensor {
    /// Attaches a gradient node to `self` when any of `inputs` is tracked.
    ///
    /// `backward` receives the gradient of `self` and returns one gradient per
    /// input, in order (nil where an input needs none). It runs with recording
    /// paused, so the tensors it captures may be used freely. The tracked
    /// tensors it captures must be among `inputs` (capture others detached):
    /// ``GradNode`` frees a graph without recursion only through its parents.
    @inline(__always)
    mutating func recordGradient(_ op: String, inputs: [Tensor], backward: @escaping (Tensor) -> [Tensor?]) {
        guard inputs.contains(where: { $0.node != nil }), !GradientRecording.isPaused else { return }
        node = GradNode(parents: inputs.map(\.node), shape: shape, op: op, backward: backward)
    }

    /// A tracked copy of `self`: a leaf of the gradient graph.
    func trackedLeaf() -> Tensor {
        Tensor(shape: shape, scalars: scalars, node: GradNode(parents: [], shape: shape, op: "leaf", backward: nil))
    }
}

/// Plays the graph back from `root`, seeding it with ones, and returns the
/// gradient reaching each node.
func backpropagate(from root: Tensor) -> [ObjectIdentifier: Tensor] {
    guard let rootNode = root.node else { return [:] }
    // Topological order by an iterative depth-first search.
    var order: [GradNode] = []
    var visited = Set<ObjectIdentifier>()
    var stack: [(GradNode, Bool)] = [(rootNode, false)]
    while let (node, expanded) = stack.popLast() {
        if expanded {
            order.append(node)
            continue
        }
        if !visited.insert(ObjectIdentifier(node)).inserted { continue }
        stack.append((node, true))
        for parent in node.parents {
            if let parent, !visited.contains(ObjectIdentifier(parent)) { stack.append((parent, false)) }
        }
    }
    var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(rootNode): Tensor.ones(root.shape)]
    withoutGradient {
        for node in order.reversed() {
            guard let backward = node.backward, let grad = grads[ObjectIdentifier(node)] else { continue }
            let inputGrads = backward(grad)
            for (parent, inputGrad) in zip(node.parents, inputGrads) {
                guard let parent, let inputGrad else { continue }
                ensure(
                    inputGrad.shape == parent.shape,
                    "backward of \(node.op): gradient of shape \(inputGrad.shape) for an operand of shape \(parent.shape)"
                )
                let id = ObjectIdentifier(parent)
                if let existing = grads[id] { grads[id] = existing + inputGrad } else { grads[id] = inputGrad }
            }
            // Free intermediate gradients as soon as they are consumed.
            if node !== rootNode { grads[ObjectIdentifier(node)] = nil }
        }
    }
    return grads
}

/// The value of a scalar function of several tensors and its gradient with
/// respect to each of them.
///
/// - Parameters:
///   - inputs: the points at which to differentiate.
///   - function: a function returning a one-element tensor.
/// - Returns: the value (untracked) and one gradient per input, each of its
///   input's shape (zeros where the value does not depend on an input).
public func valueWithGradient(
    at inputs: [Tensor], in function: ([Tensor]) throws -> Tensor
) rethrows -> (value: Tensor, gradients: [Tensor]) {
    let leaves = inputs.map { $0.trackedLeaf() }
    let value = try function(leaves)
    ensure(value.count == 1, "valueWithGradient: the function must return one value, but returned shape \(value.shape)")
    let grads = backpropagate(from: value)
    let gradients = leaves.map { leaf in grads[ObjectIdentifier(leaf.node!)] ?? Tensor.zeros(leaf.shape) }
    return (value.detached(), gradients)
}

/// The value of a scalar function of one tensor and its gradient.
public func valueWithGradient(
    at input: Tensor, in function: (Tensor) throws -> Tensor
) rethrows -> (value: Tensor, gradient: Tensor) {
    let (value, gradients) = try valueWithGradient(at: [input]) { try function($0[0]) }
    return (value, gradients[0])
}

/// The gradient of a scalar function of one tensor.
public func gradient(at input: Tensor, in function: (Tensor) throws -> Tensor) rethrows -> Tensor {
    try valueWithGradient(at: input, in: function).gradient
}

/// A value that holds trainable tensors by name: a layer, a model, an
/// optimiser's state. The visitor gives read and write access to each
/// parameter with a stable, dotted name (`down1.conv1.weight`), which is what
/// gradients, optimisers and checkpoints are built on.
public protocol ParameterContainer {
    /// Calls `body` once per parameter, in a fixed order, with its name.
    mutating func visitParameters(_ body: (String, inout Tensor) -> Void)
}

extension ParameterContainer {
    /// The parameters with their names, in visiting order.
    public var namedParameters: [(name: String, value: Tensor)] {
        var copy = self
        var result: [(String, Tensor)] = []
        copy.visitParameters { name, value in result.append((name, value)) }
        return result
    }

    /// The number of scalar parameters.
    public var parameterCount: Int { namedParameters.reduce(0) { $0 + $1.value.count } }
}

/// The value of a scalar function of a model and its gradient with respect
/// to every parameter, returned as a copy of the model whose parameters hold
/// the gradients.
public func valueWithGradient<Model: ParameterContainer>(
    at model: Model, in function: (Model) throws -> Tensor
) rethrows -> (value: Tensor, gradient: Model) {
    var tracked = model
    var leaves: [GradNode] = []
    tracked.visitParameters { _, parameter in
        parameter = parameter.trackedLeaf()
        leaves.append(parameter.node!)
    }
    let value = try function(tracked)
    ensure(value.count == 1, "valueWithGradient: the function must return one value, but returned shape \(value.shape)")
    let grads = backpropagate(from: value)
    var gradient = model
    var index = 0
    gradient.visitParameters { _, parameter in
        let leaf = leaves[index]
        parameter = grads[ObjectIdentifier(leaf)] ?? Tensor.zeros(leaf.shape)
        index += 1
    }
    return (value.detached(), gradient)
}
