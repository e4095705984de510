// The loops behind every elementwise operation: same-shape, scalar and
// general broadcasting paths over contiguous buffers.

extension Tensor {
    /// Applies `f` to every element (untracked).
    @inline(__always)
    func mapValues(_ f: (Float) -> Float) -> Tensor {
        let n = scalars.count
        let out = [Float](unsafeUninitializedCapacity: n) { buffer, count in
            scalars.withUnsafeBufferPointer { src in
                for i in 0..<n { buffer[i] = f(src[i]) }
            }
            count = n
        }
        return Tensor(shape: shape, scalars: out)
    }

    /// Combines two tensors element by element under broadcasting (untracked).
    @inline(__always)
    static func zipValues(_ a: Tensor, _ b: Tensor, op: String, _ f: (Float, Float) -> Float) -> Tensor {
        if a.shape == b.shape {
            let n = a.count
            let out = [Float](unsafeUninitializedCapacity: n) { buffer, count in
                a.scalars.withUnsafeBufferPointer { pa in
                    b.scalars.withUnsafeBufferPointer { pb in
                        for i in 0..<n { buffer[i] = f(pa[i], pb[i]) }
                    }
                }
                count = n
            }
            return Tensor(shape: a.shape, scalars: out)
        }
        let shape = Shape.broadcast(a.shape, b.shape, op: op)
        if b.count == 1 && shape == a.shape {
            let s = b.scalars[0]
            return a.mapValues { f($0, s) }
        }
        if a.count == 1 && shape == b.shape {
            let s = a.scalars[0]
            return b.mapValues { f(s, $0) }
        }
        // A trailing block broadcast over leading axes ([N, C] + [C], a bias): plain nested loops.
        if shape == a.shape, let inner = trailingBlock(b.shape, of: shape) {
            return rowWise(a, b, inner: inner, f)
        }
        if shape == b.shape, let inner = trailingBlock(a.shape, of: shape) {
            return rowWise(b, a, inner: inner) { f($1, $0) }
        }
        // [B, 1, 1, C] against [B, H, W, C] (a per-image vector): rows per outer index.
        if shape == a.shape, let split = outerInnerSplit(b.shape, of: shape) {
            return blockWise(a, b, split: split, f)
        }
        if shape == b.shape, let split = outerInnerSplit(a.shape, of: shape) {
            return blockWise(b, a, split: split) { f($1, $0) }
        }
        let n = shape.reduce(1, *)
        let sa = Shape.broadcastStrides(a.shape, to: shape)
        let sb = Shape.broadcastStrides(b.shape, to: shape)
        let out = [Float](unsafeUninitializedCapacity: n) { buffer, count in
            a.scalars.withUnsafeBufferPointer { pa in
                b.scalars.withUnsafeBufferPointer { pb in
                    forEachOffset(shape: shape, stridesA: sa, stridesB: sb) { o, ia, ib in
                        buffer[o] = f(pa[ia], pb[ib])
                    }
                }
            }
            count = n
        }
        return Tensor(shape: shape, scalars: out)
    }

    /// The element count of `small` when it is `shape`'s trailing axes with only
    /// size-1 axes before them (so it repeats whole over the leading axes).
    @inline(__always)
    static func trailingBlock(_ small: [Int], of shape: [Int]) -> Int? {
        var trimmed = small[...]
        while trimmed.first == 1 && trimmed.count > 1 { trimmed = trimmed.dropFirst() }
        guard trimmed.count <= shape.count, Array(shape.suffix(trimmed.count)) == Array(trimmed) else { return nil }
        return trimmed.reduce(1, *)
    }

    /// f(big[i], small[i mod inner]) for a `small` repeated over the leading axes of `big`.
    @inline(__always)
    static func rowWise(_ big: Tensor, _ small: Tensor, inner: Int, _ f: (Float, Float) -> Float) -> Tensor {
        let n = big.count
        let out = [Float](unsafeUninitializedCapacity: n) { buffer, count in
            big.scalars.withUnsafeBufferPointer { pa in
                small.scalars.withUnsafeBufferPointer { pb in
                    var row = 0
                    while row < n {
                        for j in 0..<inner { buffer[row + j] = f(pa[row + j], pb[j]) }
                        row += inner
                    }
                }
            }
            count = n
        }
        return Tensor(shape: big.shape, scalars: out)
    }

    /// (outer, middle, inner) sizes when `small` (of `shape`'s rank) equals
    /// `shape` on its leading and trailing axes and is 1 in between.
    @inline(__always)
    static func outerInnerSplit(_ small: [Int], of shape: [Int]) -> (outer: Int, middle: Int, inner: Int)? {
        guard small.count == shape.count, small != shape else { return nil }
        var lead = 0
        while lead < shape.count && small[lead] == shape[lead] { lead += 1 }
        var trail = shape.count
        while trail > lead && small[trail - 1] == shape[trail - 1] { trail -= 1 }
        guard small[lead..<trail].allSatisfy({ $0 == 1 }) else { return nil }
        return (shape[..<lead].reduce(1, *), shape[lead..<trail].reduce(1, *), shape[trail...].reduce(1, *))
    }

    /// f(big, small) where small repeats over the middle axes of big.
    @inline(__always)
    static func blockWise(
        _ big: Tensor, _ small: Tensor, split: (outer: Int, middle: Int, inner: Int), _ f: (Float, Float) -> Float
    ) -> Tensor {
        let n = big.count
        let out = [Float](unsafeUninitializedCapacity: n) { buffer, count in
            big.scalars.withUnsafeBufferPointer { pa in
                small.scalars.withUnsafeBufferPointer { pb in
                    var index = 0
                    for o in 0..<split.outer {
                        let row = o * split.inner
                        for _ in 0..<split.middle {
                            for j in 0..<split.inner { buffer[index + j] = f(pa[index + j], pb[row + j]) }
                            index += split.inner
                        }
                    }
                }
            }
            count = n
        }
        return Tensor(shape: big.shape, scalars: out)
    }

    /// Sums a gradient over the axes that broadcasting added or stretched,
    /// so that it has `target` shape again.
    func reduced(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        let extra = rank - target.count
        var axes = Array(0..<extra)
        for i in 0..<target.count where target[i] == 1 && shape[i + extra] != 1 { axes.append(i + extra) }
        return sum(axes: axes, keepDims: true).reshaped(target)
    }
}
