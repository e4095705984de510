/// Shape arithmetic shared by the operations: broadcasting, strides, axes.
enum Shape {
    /// Row-major strides of a contiguous tensor.
    static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = running
            running *= shape[axis]
        }
        return strides
    }

    /// `newShape` with its one -1 (if any) inferred so that it holds `count`
    /// elements, or a stop naming the operation.
    static func resolve(_ newShape: [Int], count: Int, from shape: [Int], op: String) -> [Int] {
        var target = newShape
        if let hole = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != hole }.reduce(1) { $0 * $1.element }
            ensure(known > 0 && count % known == 0, "\(op): cannot reshape \(shape) (\(count) elements) to \(newShape)")
            target[hole] = count / known
        }
        ensure(
            target.allSatisfy { $0 >= 0 } && target.reduce(1, *) == count,
            "\(op): cannot reshape \(shape) (\(count) elements) to \(newShape)")
        return target
    }

    /// The broadcast shape of two shapes under NumPy's rules, or nil.
    static func broadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if da == db || db == 1 { result[i] = da } else if da == 1 { result[i] = db } else { return nil }
        }
        return result
    }

    /// The broadcast shape, or a stop naming the operation and both shapes.
    static func broadcast(_ a: [Int], _ b: [Int], op: String) -> [Int] {
        guard let shape = broadcast(a, b) else {
            fatalError("\(op): shapes \(a) and \(b) cannot be broadcast together")
        }
        return shape
    }

    /// Strides for reading a tensor of `shape` as if it had `target` shape
    /// (zero stride on broadcast axes).
    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let own = strides(shape)
        let offset = target.count - shape.count
        return (0..<target.count).map { i in
            i < offset || shape[i - offset] == 1 ? 0 : own[i - offset]
        }
    }

    /// A normalised axis (negative counts from the end), or a stop naming the op.
    static func axis(_ axis: Int, rank: Int, op: String) -> Int {
        let normalised = axis < 0 ? axis + rank : axis
        ensure(normalised >= 0 && normalised < rank, "\(op): axis \(axis) is out of range for a tensor of rank \(rank)")
        return normalised
    }
}

/// Calls `body(outputOffset, offsetA, offsetB)` for every element of `shape`,
/// reading two operands through their own strides. The innermost axis runs
/// as a plain loop.
@inline(__always)
func forEachOffset(shape: [Int], stridesA: [Int], stridesB: [Int], _ body: (Int, Int, Int) -> Void) {
    let rank = shape.count
    let total = shape.reduce(1, *)
    if total == 0 { return }
    if rank == 0 {
        body(0, 0, 0)
        return
    }
    let inner = shape[rank - 1]
    let sa = stridesA[rank - 1], sb = stridesB[rank - 1]
    var index = [Int](repeating: 0, count: rank)
    var offA = 0, offB = 0, out = 0
    while out < total {
        var a = offA, b = offB
        for _ in 0..<inner {
            body(out, a, b)
            out += 1
            a += sa
            b += sb
        }
        // Advance the odometer over the outer axes.
        var axis = rank - 2
        while axis >= 0 {
            index[axis] += 1
            offA += stridesA[axis]
            offB += stridesB[axis]
            if index[axis] < shape[axis] { break }
            offA -= stridesA[axis] * shape[axis]
            offB -= stridesB[axis] * shape[axis]
            index[axis] = 0
            axis -= 1
        }
    }
}
