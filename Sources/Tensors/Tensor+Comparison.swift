/// Whether two tensors have the same shape and every pair of elements
/// satisfies |a - b| <= atol + rtol * |b| (NumPy's `allclose`). NaNs are
/// never close. Not transitive: a close to b and b close to c does not make
/// a close to c.
public func allClose(_ a: Tensor, _ b: Tensor, rtol: Float = 1e-5, atol: Float = 1e-6) -> Bool {
    guard a.shape == b.shape else { return false }
    for (x, y) in zip(a.scalars, b.scalars) where !(Swift.abs(x - y) <= atol + rtol * Swift.abs(y)) {
        return false
    }
    return true
}

extension Tensor {
    /// The largest absolute difference from `other`, which must have the same shape.
    public func maxAbsDifference(_ other: Tensor) -> Float {
        ensure(shape == other.shape, "maxAbsDifference: shapes \(shape) and \(other.shape)")
        var worst: Float = 0
        for (x, y) in zip(scalars, other.scalars) {
            let d = Swift.abs(x - y)
            if d.isNaN { return .nan }
            worst = Swift.max(worst, d)
        }
        return worst
    }
}
