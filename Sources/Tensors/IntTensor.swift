/// An n-dimensional array of integers: class labels, time steps, categorical
/// states and indices. Kept apart from ``Tensor`` so that an index is never a
/// float in disguise.
public struct IntTensor: Sendable, Equatable, Hashable {
    /// The size of each axis.
    public private(set) var shape: [Int]
    /// The elements in row-major order.
    public private(set) var scalars: [Int]

    /// Creates an integer tensor from its shape and row-major elements.
    public init(shape: [Int], scalars: [Int]) {
        ensure(shape.allSatisfy { $0 >= 0 }, "IntTensor(shape:scalars:): negative size in shape \(shape)")
        ensure(
            shape.reduce(1, *) == scalars.count,
            "IntTensor(shape:scalars:): shape \(shape) holds \(shape.reduce(1, *)) elements, but \(scalars.count) were given"
        )
        self.shape = shape
        self.scalars = scalars
    }

    /// A vector.
    public init(_ values: [Int]) { self.init(shape: [values.count], scalars: values) }

    /// A matrix from its rows.
    public init(_ rows: [[Int]]) {
        let width = rows.first?.count ?? 0
        ensure(rows.allSatisfy { $0.count == width }, "IntTensor([[Int]]): rows have different lengths")
        self.init(shape: [rows.count, width], scalars: rows.flatMap { $0 })
    }

    /// A tensor filled with `value`.
    public static func full(_ shape: [Int], _ value: Int) -> IntTensor {
        IntTensor(shape: shape, scalars: [Int](repeating: value, count: shape.reduce(1, *)))
    }

    /// A tensor of zeros.
    public static func zeros(_ shape: [Int]) -> IntTensor { full(shape, 0) }

    /// `[0, 1, ..., n - 1]`.
    public static func arange(_ n: Int) -> IntTensor { IntTensor(Array(0..<n)) }

    /// The number of axes.
    public var rank: Int { shape.count }
    /// The number of elements.
    public var count: Int { scalars.count }

    /// The element at a full multi-index.
    public subscript(at index: Int...) -> Int {
        ensure(index.count == rank, "IntTensor[at:]: \(index.count) indices for a tensor of rank \(rank)")
        var offset = 0
        for axis in 0..<rank {
            let i = index[axis]
            ensure(
                i >= 0 && i < shape[axis],
                "IntTensor[at:]: index \(i) is out of range for axis \(axis) of size \(shape[axis])")
            offset = offset * shape[axis] + i
        }
        return scalars[offset]
    }

    /// The elements as floats.
    public var asFloat: Tensor { Tensor(shape: shape, scalars: scalars.map(Float.init)) }

    /// The same elements with a new shape; one size may be -1.
    public func reshaped(_ newShape: [Int]) -> IntTensor {
        IntTensor(shape: Shape.resolve(newShape, count: count, from: shape, op: "reshaped"), scalars: scalars)
    }

    /// The same elements with a new shape.
    public func reshaped(_ newShape: Int...) -> IntTensor { reshaped(newShape) }

    /// The elements repeated along size-1 (and missing leading) axes to `target`.
    public func broadcast(to target: [Int]) -> IntTensor {
        if shape == target { return self }
        ensure(
            Shape.broadcast(shape, target) == target, "broadcast(to:): shape \(shape) cannot be broadcast to \(target)")
        return IntTensor.zip(self, .zeros(target), op: "broadcast(to:)") { a, _ in a }
    }

    /// The sub-tensor at `index` along the first axis.
    public subscript(index: Int) -> IntTensor {
        ensure(rank >= 1, "IntTensor[\(index)]: cannot index a scalar")
        ensure(
            index >= 0 && index < shape[0],
            "IntTensor[\(index)]: index \(index) is out of range for axis 0 of size \(shape[0])")
        let inner = count / shape[0]
        return IntTensor(
            shape: Array(shape.dropFirst()), scalars: Array(scalars[(index * inner)..<((index + 1) * inner)]))
    }

    static func zip(_ a: IntTensor, _ b: IntTensor, op: String, _ f: (Int, Int) -> Int) -> IntTensor {
        if a.shape == b.shape { return IntTensor(shape: a.shape, scalars: Swift.zip(a.scalars, b.scalars).map(f)) }
        let shape = Shape.broadcast(a.shape, b.shape, op: op)
        var out = [Int](repeating: 0, count: shape.reduce(1, *))
        forEachOffset(
            shape: shape, stridesA: Shape.broadcastStrides(a.shape, to: shape),
            stridesB: Shape.broadcastStrides(b.shape, to: shape)
        ) { o, i, j in
            out[o] = f(a.scalars[i], b.scalars[j])
        }
        return IntTensor(shape: shape, scalars: out)
    }

    public static func + (a: IntTensor, b: IntTensor) -> IntTensor { zip(a, b, op: "+", +) }
    public static func - (a: IntTensor, b: IntTensor) -> IntTensor { zip(a, b, op: "-", -) }
    public static func * (a: IntTensor, b: IntTensor) -> IntTensor { zip(a, b, op: "*", *) }
    public static func + (a: IntTensor, s: Int) -> IntTensor {
        IntTensor(shape: a.shape, scalars: a.scalars.map { $0 + s })
    }
    public static func - (a: IntTensor, s: Int) -> IntTensor {
        IntTensor(shape: a.shape, scalars: a.scalars.map { $0 - s })
    }
    public static func * (a: IntTensor, s: Int) -> IntTensor {
        IntTensor(shape: a.shape, scalars: a.scalars.map { $0 * s })
    }
    public static func % (a: IntTensor, s: Int) -> IntTensor {
        IntTensor(shape: a.shape, scalars: a.scalars.map { $0 % s })
    }

    static func compare(_ a: IntTensor, _ b: IntTensor, op: String, _ f: (Int, Int) -> Bool) -> Mask {
        let r = zip(a, b, op: op) { f($0, $1) ? 1 : 0 }
        return Mask(shape: r.shape, values: r.scalars.map { $0 != 0 })
    }

    public static func .== (a: IntTensor, b: IntTensor) -> Mask { compare(a, b, op: ".==", ==) }
    public static func .!= (a: IntTensor, b: IntTensor) -> Mask { compare(a, b, op: ".!=", !=) }
    public static func .< (a: IntTensor, b: IntTensor) -> Mask { compare(a, b, op: ".<", <) }
    public static func .<= (a: IntTensor, b: IntTensor) -> Mask { compare(a, b, op: ".<=", <=) }
    public static func .> (a: IntTensor, b: IntTensor) -> Mask { compare(a, b, op: ".>", >) }
    public static func .>= (a: IntTensor, b: IntTensor) -> Mask { compare(a, b, op: ".>=", >=) }
    public static func .== (a: IntTensor, s: Int) -> Mask { a .== IntTensor(shape: [], scalars: [s]) }
    public static func .!= (a: IntTensor, s: Int) -> Mask { a .!= IntTensor(shape: [], scalars: [s]) }
    public static func .< (a: IntTensor, s: Int) -> Mask { a .< IntTensor(shape: [], scalars: [s]) }
    public static func .<= (a: IntTensor, s: Int) -> Mask { a .<= IntTensor(shape: [], scalars: [s]) }
    public static func .> (a: IntTensor, s: Int) -> Mask { a .> IntTensor(shape: [], scalars: [s]) }
    public static func .>= (a: IntTensor, s: Int) -> Mask { a .>= IntTensor(shape: [], scalars: [s]) }
}

/// Elementwise choice between two integer tensors, broadcast together.
public func `where`(_ mask: Mask, _ a: IntTensor, _ b: IntTensor) -> IntTensor {
    let m = IntTensor(shape: mask.shape, scalars: mask.values.map { $0 ? 1 : 0 })
    let shape = Shape.broadcast(Shape.broadcast(m.shape, a.shape, op: "where"), b.shape, op: "where")
    let mb = m.broadcast(to: shape), ab = a.broadcast(to: shape), bb = b.broadcast(to: shape)
    return IntTensor(
        shape: shape, scalars: (0..<mb.count).map { mb.scalars[$0] != 0 ? ab.scalars[$0] : bb.scalars[$0] })
}

extension IntTensor: CustomStringConvertible {
    public var description: String { formatNested(shape: shape, scalars.map(String.init)) }
}
