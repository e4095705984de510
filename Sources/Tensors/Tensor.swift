import CKernels

/// An n-dimensional array of `Float` values in row-major order, with
/// reverse-mode automatic differentiation.
///
/// `Tensor` is a value type: copies share storage until one of them is
/// written (copy-on-write, through Swift's `Array`). Operations never mutate
/// their operands; they return new tensors.
///
/// ```swift
/// let q = Tensor([[0.9, 0.1], [0.2, 0.8]])   // shape [2, 2]
/// let p = softmax(Tensor.zeros([3, 2]), axis: -1)
/// let next = matmul(p, q)                     // shape [3, 2]
/// ```
///
/// Gradients are taken with ``valueWithGradient(at:in:)`` and its
/// relatives: the function is run once while the operations record how to
/// propagate gradients, then the record is played back from the result.
public struct Tensor: Sendable {
    /// The size of each axis. A scalar has shape `[]`.
    public private(set) var shape: [Int]
    /// The elements in row-major order.
    public internal(set) var scalars: [Float]
    /// The node of the gradient graph that produced this tensor, if it is tracked.
    internal var node: GradNode?

    /// Creates a tensor from its shape and row-major elements.
    /// - Precondition: `scalars.count` equals the product of `shape`.
    public init(shape: [Int], scalars: [Float]) {
        ensure(shape.allSatisfy { $0 >= 0 }, "Tensor(shape:scalars:): negative size in shape \(shape)")
        ensure(
            shape.reduce(1, *) == scalars.count,
            "Tensor(shape:scalars:): shape \(shape) holds \(shape.reduce(1, *)) elements, but \(scalars.count) were given"
        )
        self.shape = shape
        self.scalars = scalars
        self.node = nil
    }

    internal init(shape: [Int], scalars: [Float], node: GradNode?) {
        self.shape = shape
        self.scalars = scalars
        self.node = node
    }

    /// A scalar (rank-0) tensor.
    public init(_ value: Float) {
        self.init(shape: [], scalars: [value])
    }

    /// A vector.
    public init(_ values: [Float]) {
        self.init(shape: [values.count], scalars: values)
    }

    /// A matrix from its rows.
    /// - Precondition: every row has the same length.
    public init(_ rows: [[Float]]) {
        let width = rows.first?.count ?? 0
        ensure(rows.allSatisfy { $0.count == width }, "Tensor([[Float]]): rows have different lengths")
        self.init(shape: [rows.count, width], scalars: rows.flatMap { $0 })
    }

    /// A rank-3 tensor from nested arrays.
    /// - Precondition: the nested arrays are rectangular.
    public init(_ planes: [[[Float]]]) {
        let rows = planes.first?.count ?? 0
        let width = planes.first?.first?.count ?? 0
        ensure(
            planes.allSatisfy { $0.count == rows && $0.allSatisfy { $0.count == width } },
            "Tensor([[[Float]]]): nested arrays are not rectangular")
        self.init(shape: [planes.count, rows, width], scalars: planes.flatMap { $0.flatMap { $0 } })
    }

    /// The number of axes.
    public var rank: Int { shape.count }
    /// The number of elements.
    public var count: Int { scalars.count }

    /// The value of a one-element tensor.
    /// - Precondition: the tensor has exactly one element.
    public var item: Float {
        ensure(scalars.count == 1, "Tensor.item: the tensor has shape \(shape), not one element")
        return scalars[0]
    }

    /// The element at a full multi-index.
    public subscript(at index: Int...) -> Float {
        ensure(index.count == rank, "Tensor[at:]: \(index.count) indices for a tensor of rank \(rank)")
        var offset = 0
        for axis in 0..<rank {
            let i = index[axis]
            ensure(
                i >= 0 && i < shape[axis],
                "Tensor[at:]: index \(i) is out of range for axis \(axis) of size \(shape[axis])")
            offset = offset * shape[axis] + i
        }
        return scalars[offset]
    }

    /// Whether gradients flow back through this tensor.
    public var isTracked: Bool { node != nil }

    /// The same values, cut off from the gradient graph (PyTorch's `detach()`).
    public func detached() -> Tensor {
        Tensor(shape: shape, scalars: scalars, node: nil)
    }
}

// MARK: - Creation

extension Tensor {
    /// A tensor of the given shape filled with `value`.
    public static func full(_ shape: [Int], _ value: Float) -> Tensor {
        Tensor(shape: shape, scalars: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    /// A tensor of zeros.
    public static func zeros(_ shape: [Int]) -> Tensor { full(shape, 0) }

    /// A tensor of ones.
    public static func ones(_ shape: [Int]) -> Tensor { full(shape, 1) }

    /// The n x n identity matrix.
    public static func eye(_ n: Int) -> Tensor {
        var values = [Float](repeating: 0, count: n * n)
        for i in 0..<n { values[i * n + i] = 1 }
        return Tensor(shape: [n, n], scalars: values)
    }

    /// `[0, 1, ..., n - 1]` as floats.
    public static func arange(_ n: Int) -> Tensor {
        Tensor(shape: [n], scalars: (0..<n).map(Float.init))
    }

    /// `count` evenly spaced values from `start` to `end`, both included (as `torch.linspace`).
    public static func linspace(_ start: Float, _ end: Float, count: Int) -> Tensor {
        ensure(count >= 1, "Tensor.linspace: count must be at least 1, got \(count)")
        if count == 1 { return Tensor([start]) }
        let step = (Double(end) - Double(start)) / Double(count - 1)
        return Tensor(shape: [count], scalars: (0..<count).map { Float(Double(start) + Double($0) * step) })
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        formatNested(shape: shape, scalars.map { String(format4: $0) })
    }
}

extension String {
    init(format4 value: Float) {
        if value == value.rounded() && abs(value) < 1e6 {
            self = String(Int(value))
        } else {
            let magnitude = abs(value)
            if magnitude >= 1e-3 && magnitude < 1e4 {
                self = String(Double((Double(value) * 1e4).rounded() / 1e4))
            } else {
                self = "\(value)"
            }
        }
    }
}

/// Renders elements with brackets that show the shape, eliding long axes.
func formatNested(shape: [Int], _ items: [String]) -> String {
    if shape.isEmpty { return items.first ?? "" }
    func render(_ axis: Int, _ offset: Int) -> String {
        let size = shape[axis]
        let stride = shape[(axis + 1)...].reduce(1, *)
        let shown: [Int] = size > 8 ? Array(0..<3) + [-1] + Array((size - 3)..<size) : Array(0..<size)
        let parts = shown.map { i -> String in
            if i < 0 { return "..." }
            return axis == shape.count - 1 ? items[offset + i] : render(axis + 1, offset + i * stride)
        }
        let separator = axis == shape.count - 1 ? ", " : ",\n" + String(repeating: " ", count: axis + 1)
        return "[" + parts.joined(separator: separator) + "]"
    }
    return render(0, 0)
}
