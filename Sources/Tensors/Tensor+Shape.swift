// Operations that rearrange elements: reshape, permute, stack, concat.

extension Tensor {
    /// The same elements with a new shape; one size may be -1 and is inferred.
    /// Shares storage (no copy).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        let target = Shape.resolve(newShape, count: count, from: shape, op: "reshaped")
        if target == shape { return self }
        var result = Tensor(shape: target, scalars: scalars)
        let source = shape
        result.recordGradient("reshaped", inputs: [self]) { g in [g.reshaped(source)] }
        return result
    }

    /// The same elements with a new shape.
    public func reshaped(_ newShape: Int...) -> Tensor { reshaped(newShape) }

    /// The tensor with a new axis of size 1 inserted at `axis`.
    public func expandingShape(at axis: Int) -> Tensor {
        let axis = axis < 0 ? axis + rank + 1 : axis
        ensure(axis >= 0 && axis <= rank, "expandingShape(at:): axis \(axis) is out of range for rank \(rank)")
        var s = shape
        s.insert(1, at: axis)
        return reshaped(s)
    }

    /// The tensor without its size-1 axis `axis`.
    public func squeezingShape(at axis: Int) -> Tensor {
        let axis = Shape.axis(axis, rank: rank, op: "squeezingShape(at:)")
        ensure(shape[axis] == 1, "squeezingShape(at:): axis \(axis) of shape \(shape) has size \(shape[axis]), not 1")
        var s = shape
        s.remove(at: axis)
        return reshaped(s)
    }

    /// The axes reordered: axis i of the result is axis `axes[i]` of `self`
    /// (PyTorch's `permute`).
    public func permuted(_ axes: [Int]) -> Tensor {
        ensure(axes.count == rank, "permuted: \(axes) does not list the \(rank) axes of shape \(shape)")
        let normalised = axes.map { Shape.axis($0, rank: rank, op: "permuted") }
        ensure(Set(normalised).count == rank, "permuted: \(axes) is not a permutation of the axes of shape \(shape)")
        if normalised == Array(0..<rank) { return self }
        let outShape = normalised.map { shape[$0] }
        let own = Shape.strides(shape)
        let sourceStrides = normalised.map { own[$0] }
        let n = count
        let out = [Float](unsafeUninitializedCapacity: n) { buffer, written in
            scalars.withUnsafeBufferPointer { src in
                let run = shape[rank - 1]
                if normalised[rank - 1] == rank - 1 && run > 1 {
                    // The last axis stays last: whole rows move at once.
                    let (outer, strides) = (Array(outShape.dropLast()), Array(sourceStrides.dropLast()))
                    forEachOffset(shape: outer, stridesA: strides, stridesB: strides) { o, i, _ in
                        (buffer.baseAddress! + o * run).initialize(from: src.baseAddress! + i, count: run)
                    }
                } else {
                    forEachOffset(shape: outShape, stridesA: sourceStrides, stridesB: sourceStrides) { o, i, _ in
                        buffer[o] = src[i]
                    }
                }
            }
            written = n
        }
        var result = Tensor(shape: outShape, scalars: out)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, a) in normalised.enumerated() { inverse[a] = i }
        result.recordGradient("permuted", inputs: [self]) { g in [g.permuted(inverse)] }
        return result
    }

    /// The axes reordered.
    public func permuted(_ axes: Int...) -> Tensor { permuted(axes) }

    /// Two axes swapped (PyTorch's `transpose(a, b)`).
    public func transposed(_ a: Int, _ b: Int) -> Tensor {
        var axes = Array(0..<rank)
        axes.swapAt(Shape.axis(a, rank: rank, op: "transposed"), Shape.axis(b, rank: rank, op: "transposed"))
        return permuted(axes)
    }

    /// The last two axes swapped: the matrix transpose, batched.
    public func transposed() -> Tensor {
        ensure(rank >= 2, "transposed(): needs rank 2 or more, got shape \(shape)")
        return transposed(-2, -1)
    }
}

/// Joins tensors of equal shape along a new axis (PyTorch's `torch.stack`).
public func stack(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
    ensure(!tensors.isEmpty, "stack: no tensors given")
    let shape = tensors[0].shape
    for (i, t) in tensors.enumerated() {
        ensure(t.shape == shape, "stack: tensor \(i) has shape \(t.shape), tensor 0 has shape \(shape)")
    }
    let axis = axis < 0 ? axis + shape.count + 1 : axis
    ensure(axis >= 0 && axis <= shape.count, "stack: axis \(axis) is out of range for rank \(shape.count + 1)")
    return concat(tensors.map { $0.expandingShape(at: axis) }, axis: axis)
}

/// Joins tensors along an existing axis (PyTorch's `torch.cat`).
public func concat(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
    ensure(!tensors.isEmpty, "concat: no tensors given")
    let first = tensors[0].shape
    let axis = Shape.axis(axis, rank: first.count, op: "concat")
    for (i, t) in tensors.enumerated() {
        var a = t.shape, b = first
        ensure(a.count == b.count, "concat: tensor \(i) has shape \(t.shape), tensor 0 has shape \(first)")
        a[axis] = 0
        b[axis] = 0
        ensure(
            a == b,
            "concat: tensor \(i) has shape \(t.shape), tensor 0 has shape \(first) (they may differ only on axis \(axis))"
        )
    }
    let outer = first[..<axis].reduce(1, *)
    let inner = first[(axis + 1)...].reduce(1, *)
    let sizes = tensors.map { $0.shape[axis] }
    let total = sizes.reduce(0, +)
    var out = [Float](repeating: 0, count: outer * total * inner)
    var offset = 0
    for (t, size) in zip(tensors, sizes) {
        let block = size * inner
        t.scalars.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for o in 0..<outer {
                    let d = o * total * inner + offset * inner
                    for j in 0..<block { dst[d + j] = src[o * block + j] }
                }
            }
        }
        offset += size
    }
    var outShape = first
    outShape[axis] = total
    var result = Tensor(shape: outShape, scalars: out)
    result.recordGradient("concat", inputs: tensors) { g in
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return g.slice(axis: axis, start..<(start + size))
        }
    }
    return result
}

extension Tensor {
    /// The elements whose index along `axis` lies in `range`.
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let axis = Shape.axis(axis, rank: rank, op: "slice")
        ensure(
            range.lowerBound >= 0 && range.upperBound <= shape[axis],
            "slice: range \(range) is out of bounds for axis \(axis) of size \(shape[axis])")
        let outer = shape[..<axis].reduce(1, *)
        let inner = shape[(axis + 1)...].reduce(1, *)
        let size = shape[axis], width = range.count
        var out = [Float](repeating: 0, count: outer * width * inner)
        scalars.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for o in 0..<outer {
                    let s = (o * size + range.lowerBound) * inner
                    for j in 0..<(width * inner) { dst[o * width * inner + j] = src[s + j] }
                }
            }
        }
        var outShape = shape
        outShape[axis] = width
        var result = Tensor(shape: outShape, scalars: out)
        let source = shape
        result.recordGradient("slice", inputs: [self]) { g in
            var parts: [Tensor] = []
            if range.lowerBound > 0 {
                var s = source
                s[axis] = range.lowerBound
                parts.append(.zeros(s))
            }
            parts.append(g)
            if range.upperBound < source[axis] {
                var s = source
                s[axis] = source[axis] - range.upperBound
                parts.append(.zeros(s))
            }
            return [concat(parts, axis: axis)]
        }
        return result
    }

    /// The sub-tensor at `index` along the first axis (PyTorch's `a[i]`).
    public subscript(index: Int) -> Tensor {
        ensure(rank >= 1, "Tensor[\(index)]: cannot index a scalar")
        ensure(
            index >= 0 && index < shape[0],
            "Tensor[\(index)]: index \(index) is out of range for axis 0 of size \(shape[0])")
        return slice(axis: 0, index..<(index + 1)).squeezingShape(at: 0)
    }
}
