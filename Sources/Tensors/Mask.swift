/// A tensor of booleans: the result of an elementwise comparison, used to
/// choose between two tensors with ``where(_:_:_:)``.
public struct Mask: Sendable, Equatable {
    /// The size of each axis.
    public let shape: [Int]
    /// The elements in row-major order.
    public let values: [Bool]

    /// Creates a mask from its shape and row-major elements.
    public init(shape: [Int], values: [Bool]) {
        ensure(
            shape.reduce(1, *) == values.count,
            "Mask: shape \(shape) holds \(shape.reduce(1, *)) elements, but \(values.count) were given")
        self.shape = shape
        self.values = values
    }

    /// The number of `true` elements.
    public var trueCount: Int { values.reduce(0) { $0 + ($1 ? 1 : 0) } }
    /// Whether every element is true.
    public var all: Bool { values.allSatisfy { $0 } }
    /// Whether any element is true.
    public var any: Bool { values.contains(true) }

    /// The mask as 0/1 floats.
    public var asFloat: Tensor { Tensor(shape: shape, scalars: values.map { $0 ? 1 : 0 }) }

    public static prefix func ! (m: Mask) -> Mask { Mask(shape: m.shape, values: m.values.map { !$0 }) }

    public static func && (a: Mask, b: Mask) -> Mask {
        ensure(a.shape == b.shape, "&&: masks of shapes \(a.shape) and \(b.shape)")
        return Mask(shape: a.shape, values: zip(a.values, b.values).map { $0 && $1 })
    }

    public static func || (a: Mask, b: Mask) -> Mask {
        ensure(a.shape == b.shape, "||: masks of shapes \(a.shape) and \(b.shape)")
        return Mask(shape: a.shape, values: zip(a.values, b.values).map { $0 || $1 })
    }
}

infix operator .== : ComparisonPrecedence
infix operator .!= : ComparisonPrecedence
infix operator .< : ComparisonPrecedence
infix operator .<= : ComparisonPrecedence
infix operator .> : ComparisonPrecedence
infix operator .>= : ComparisonPrecedence

extension Tensor {
    @inline(__always)
    static func compare(_ a: Tensor, _ b: Tensor, op: String, _ f: (Float, Float) -> Bool) -> Mask {
        let values = zipValues(a, b, op: op) { f($0, $1) ? 1 : 0 }
        return Mask(shape: values.shape, values: values.scalars.map { $0 != 0 })
    }

    public static func .== (a: Tensor, b: Tensor) -> Mask { compare(a, b, op: ".==") { $0 == $1 } }
    public static func .!= (a: Tensor, b: Tensor) -> Mask { compare(a, b, op: ".!=") { $0 != $1 } }
    public static func .< (a: Tensor, b: Tensor) -> Mask { compare(a, b, op: ".<") { $0 < $1 } }
    public static func .<= (a: Tensor, b: Tensor) -> Mask { compare(a, b, op: ".<=") { $0 <= $1 } }
    public static func .> (a: Tensor, b: Tensor) -> Mask { compare(a, b, op: ".>") { $0 > $1 } }
    public static func .>= (a: Tensor, b: Tensor) -> Mask { compare(a, b, op: ".>=") { $0 >= $1 } }
    public static func .== (a: Tensor, s: Float) -> Mask { a .== Tensor(s) }
    public static func .!= (a: Tensor, s: Float) -> Mask { a .!= Tensor(s) }
    public static func .< (a: Tensor, s: Float) -> Mask { a .< Tensor(s) }
    public static func .<= (a: Tensor, s: Float) -> Mask { a .<= Tensor(s) }
    public static func .> (a: Tensor, s: Float) -> Mask { a .> Tensor(s) }
    public static func .>= (a: Tensor, s: Float) -> Mask { a .>= Tensor(s) }
}

/// Elementwise choice: `a` where `mask` is true, `b` elsewhere, with the
/// three broadcast together (PyTorch's `torch.where`).
public func `where`(_ mask: Mask, _ a: Tensor, _ b: Tensor) -> Tensor {
    let shape = Shape.broadcast(Shape.broadcast(mask.shape, a.shape, op: "where"), b.shape, op: "where")
    var result: Tensor
    let everywhere = mask.all
    if everywhere || !mask.any {
        // One side everywhere (a whole batch at t = 1, or at none): no pass over the other.
        result = (everywhere ? a : b).detached().broadcast(to: shape)
    } else {
        let chosen = mask.asFloat.broadcast(to: shape)
        let (values, others) = (a.detached().broadcast(to: shape), b.detached().broadcast(to: shape))
        let n = chosen.count
        let out = [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
            chosen.scalars.withUnsafeBufferPointer { m in
                values.scalars.withUnsafeBufferPointer { x in
                    others.scalars.withUnsafeBufferPointer { y in
                        for i in 0..<n { buffer[i] = m[i] != 0 ? x[i] : y[i] }
                    }
                }
            }
            initialized = n
        }
        result = Tensor(shape: shape, scalars: out)
    }
    result.recordGradient("where", inputs: [a, b]) { g in
        let chosen = mask.asFloat.broadcast(to: shape)
        return [(g * chosen).reduced(toShape: a.shape), (g * (1 - chosen)).reduced(toShape: b.shape)]
    }
    return result
}
