// Advanced indexing and gathering with integer index tensors.

extension Tensor {
    /// Advanced indexing on the leading axes, as NumPy and PyTorch do it.
    ///
    /// The index tensors are broadcast together to a shape S; the result has
    /// shape S followed by the axes that were not indexed. With `a` of shape
    /// [T, K, K], `t` of shape [B, 1, 1] and `x` of shape [B, H, W],
    /// `a[t, x]` has shape [B, H, W, K] and holds row `x[b, i, j]` of matrix
    /// `a[t[b]]`: PyTorch's `a[t, x, :]`.
    ///
    /// Gradients flow back to `self` (scattered and summed).
    public subscript(indices: IntTensor...) -> Tensor { gathering(indices) }

    /// Advanced indexing with an array of index tensors; see ``subscript(_:)``.
    public func gathering(_ indices: [IntTensor]) -> Tensor {
        ensure(!indices.isEmpty, "Tensor[...]: no index tensors given")
        ensure(indices.count <= rank, "Tensor[...]: \(indices.count) index tensors for a tensor of shape \(shape)")
        var indexShape: [Int] = indices[0].shape
        for index in indices.dropFirst() {
            guard let s = Shape.broadcast(indexShape, index.shape) else {
                fatalError("Tensor[...]: index shapes \(indices.map(\.shape)) cannot be broadcast together")
            }
            indexShape = s
        }
        let n = indexShape.reduce(1, *)
        // Each index tensor is checked as given, before it is broadcast (to
        // nothing, when another index is empty: then nothing is read).
        for (axis, index) in indices.enumerated() where n > 0 {
            let size = shape[axis]
            if let bad = index.scalars.withUnsafeBufferPointer({ values in values.first { $0 < 0 || $0 >= size } }) {
                fatalError(
                    "Tensor[...]: index \(bad) is out of range for axis \(axis) of size \(size) (shape \(shape))"
                )
            }
        }
        let trailing = Array(shape[indices.count...])
        let inner = trailing.reduce(1, *)
        let strides = Shape.strides(shape)
        // The offset of each gathered block: the sum over axes of index x stride.
        var offsets = [Int](repeating: 0, count: n)
        offsets.withUnsafeMutableBufferPointer { offset in
            for (axis, index) in indices.enumerated() {
                let stride = strides[axis]
                index.broadcast(to: indexShape).scalars.withUnsafeBufferPointer { values in
                    for i in 0..<n { offset[i] += values[i] * stride }
                }
            }
        }
        let out = [Float](unsafeUninitializedCapacity: n * inner) { dst, initialized in
            scalars.withUnsafeBufferPointer { src in
                offsets.withUnsafeBufferPointer { offset in
                    for i in 0..<n {
                        let s = offset[i], d = i * inner
                        for j in 0..<inner { dst[d + j] = src[s + j] }
                    }
                }
            }
            initialized = n * inner
        }
        var result = Tensor(shape: indexShape + trailing, scalars: out)
        let source = shape
        result.recordGradient("gathering", inputs: [self]) { g in
            var grad = [Float](repeating: 0, count: source.reduce(1, *))
            g.scalars.withUnsafeBufferPointer { gs in
                for i in 0..<n {
                    let s = offsets[i], d = i * inner
                    for j in 0..<inner { grad[s + j] += gs[d + j] }
                }
            }
            return [Tensor(shape: source, scalars: grad)]
        }
        return result
    }

    /// The elements picked along `axis` by `index`, which has the shape of
    /// `self` except along `axis` (PyTorch's `torch.gather`).
    public func gather(axis: Int, index: IntTensor) -> Tensor {
        let axis = Shape.axis(axis, rank: rank, op: "gather")
        ensure(index.rank == rank, "gather: index of shape \(index.shape) for a tensor of shape \(shape)")
        for a in 0..<rank where a != axis {
            ensure(
                index.shape[a] == shape[a],
                "gather: index of shape \(index.shape) does not match shape \(shape) off axis \(axis)")
        }
        let outer = shape[..<axis].reduce(1, *)
        let inner = shape[(axis + 1)...].reduce(1, *)
        let size = shape[axis], picked = index.shape[axis]
        var offsets = [Int](repeating: 0, count: index.count)
        for o in 0..<outer {
            for k in 0..<picked {
                for i in 0..<inner {
                    let position = (o * picked + k) * inner + i
                    let chosen = index.scalars[position]
                    ensure(
                        chosen >= 0 && chosen < size,
                        "gather: index \(chosen) is out of range for axis \(axis) of size \(size)")
                    offsets[position] = (o * size + chosen) * inner + i
                }
            }
        }
        var result = Tensor(shape: index.shape, scalars: offsets.map { scalars[$0] })
        let source = shape
        result.recordGradient("gather", inputs: [self]) { g in
            var grad = [Float](repeating: 0, count: source.reduce(1, *))
            for (p, o) in offsets.enumerated() { grad[o] += g.scalars[p] }
            return [Tensor(shape: source, scalars: grad)]
        }
        return result
    }
}

/// One-hot vectors: shape `[..., numClasses]` with a 1 at each label
/// (PyTorch's `F.one_hot(x, K).float()`).
public func oneHot(_ labels: IntTensor, numClasses: Int) -> Tensor {
    var out = [Float](repeating: 0, count: labels.count * numClasses)
    for (i, label) in labels.scalars.enumerated() {
        ensure(label >= 0 && label < numClasses, "oneHot: label \(label) is out of range for \(numClasses) classes")
        out[i * numClasses + label] = 1
    }
    return Tensor(shape: labels.shape + [numClasses], scalars: out)
}
