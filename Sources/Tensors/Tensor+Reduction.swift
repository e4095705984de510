import CKernels

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// Reductions over axes: sum, mean, max, logsumexp, argmax.

extension Tensor {
    /// Normalised, sorted, unique axes; all axes when `axes` is nil.
    func reductionAxes(_ axes: [Int]?, op: String) -> [Int] {
        guard let axes else { return Array(0..<rank) }
        let normalised = axes.map { Shape.axis($0, rank: rank, op: op) }
        ensure(Set(normalised).count == normalised.count, "\(op): axis repeated in \(axes)")
        return normalised.sorted()
    }

    /// Folds the elements over `axes` with `combine`, starting from `initial`
    /// (untracked). Returns the kept-dims shape result.
    @inline(__always)
    func foldValues(axes: [Int], initial: Float, _ combine: (Float, Float) -> Float) -> Tensor {
        var outShape = shape
        for axis in axes { outShape[axis] = 1 }
        let outCount = outShape.reduce(1, *)
        var out = [Float](repeating: initial, count: outCount)
        // Fast path: reducing the trailing axes of contiguous rows.
        let reducedTail = axes == Array((rank - axes.count)..<rank)
        if reducedTail {
            let inner = count / Swift.max(outCount, 1)
            scalars.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    for row in 0..<outCount {
                        var acc = initial
                        let base = row * inner
                        for j in 0..<inner { acc = combine(acc, src[base + j]) }
                        dst[row] = acc
                    }
                }
            }
            return Tensor(shape: outShape, scalars: out)
        }
        // Fast path: reducing the leading axes (a bias gradient): add whole rows.
        if axes == Array(0..<axes.count) && outCount > 0 {
            let rows = count / outCount
            scalars.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    for row in 0..<rows {
                        let base = row * outCount
                        for j in 0..<outCount { dst[j] = combine(dst[j], src[base + j]) }
                    }
                }
            }
            return Tensor(shape: outShape, scalars: out)
        }
        let outStrides = Shape.broadcastStrides(outShape, to: shape)
        let ownStrides = Shape.strides(shape)
        scalars.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                forEachOffset(shape: shape, stridesA: ownStrides, stridesB: outStrides) { _, i, o in
                    dst[o] = combine(dst[o], src[i])
                }
            }
        }
        return Tensor(shape: outShape, scalars: out)
    }

    func droppingAxes(_ axes: [Int], keepDims: Bool) -> [Int] {
        if keepDims {
            var s = shape
            for a in axes { s[a] = 1 }
            return s
        }
        return shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
    }

    /// The sum over `axes` (all axes when nil).
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let axes = reductionAxes(axes, op: "sum")
        let kept: Tensor
        if axes == Array(0..<axes.count) && !axes.isEmpty && axes.count < rank {
            kept = sumOfRows(leadingAxes: axes.count)
        } else if let first = axes.first, axes == Array(first..<(first + axes.count)), axes.last! < rank - 1 {
            kept = sumOfMiddleAxes(first..<(first + axes.count))
        } else {
            kept = foldValues(axes: axes, initial: 0, +)
        }
        var result = kept.reshaped(droppingAxes(axes, keepDims: keepDims))
        let inputShape = shape
        result.recordGradient("sum", inputs: [self]) { g in
            [g.reshaped(kept.shape).broadcast(to: inputShape)]
        }
        return result
    }

    /// The sum over the first `leadingAxes` axes (a bias gradient, say), with
    /// those axes kept as 1: a vectorised sum of rows, split over the cores.
    private func sumOfRows(leadingAxes: Int) -> Tensor {
        let columns = shape[leadingAxes...].reduce(1, *), rows = count / Swift.max(columns, 1)
        let parts = Swift.max(1, Swift.min(MatrixProduct.threadCount, count / (1 << 16)))
        let perPart = (rows + parts - 1) / parts
        var partial = [Float](repeating: 0, count: parts * columns)
        scalars.withUnsafeBufferPointer { src in
            partial.withUnsafeMutableBufferPointer { dst in
                let (s, d) = (UInt(bitPattern: src.baseAddress), UInt(bitPattern: dst.baseAddress))
                Parallel.forEach(parts) { part in
                    let first = Swift.min(part * perPart, rows), count = Swift.min(perPart, rows - first)
                    ck_sum_rows(
                        UnsafePointer<Float>(bitPattern: s)! + first * columns, count, columns,
                        UnsafeMutablePointer<Float>(bitPattern: d)! + part * columns)
                }
            }
        }
        var total = Array(partial[0..<columns])
        for part in 1..<parts { for j in 0..<columns { total[j] += partial[part * columns + j] } }
        return Tensor(shape: Array(repeating: 1, count: leadingAxes) + shape[leadingAxes...], scalars: total)
    }

    /// The sum over consecutive axes that are neither all the leading ones
    /// nor include the last (the gradient of a per-image bias [B, 1, 1, C]
    /// added to feature maps [B, H, W, C], say), with those axes kept as 1:
    /// a sum of rows per outer index, the outer indices split over the cores.
    private func sumOfMiddleAxes(_ axes: Range<Int>) -> Tensor {
        let outer = shape[..<axes.lowerBound].reduce(1, *), middle = shape[axes].reduce(1, *)
        let inner = shape[axes.upperBound...].reduce(1, *)
        var keptShape = shape
        for axis in axes { keptShape[axis] = 1 }
        let sums = [Float](unsafeUninitializedCapacity: outer * inner) { dst, initialized in
            initialized = outer * inner
            scalars.withUnsafeBufferPointer { src in
                let (s, d) = (UInt(bitPattern: src.baseAddress), UInt(bitPattern: dst.baseAddress))
                Parallel.ranges(outer, elementsPerItem: middle * inner) { range in
                    for o in range {
                        ck_sum_rows(
                            UnsafePointer<Float>(bitPattern: s)! + o * middle * inner, middle, inner,
                            UnsafeMutablePointer<Float>(bitPattern: d)! + o * inner)
                    }
                }
            }
        }
        return Tensor(shape: keptShape, scalars: sums)
    }

    /// The sum over one axis.
    public func sum(axis: Int, keepDims: Bool = false) -> Tensor { sum(axes: [axis], keepDims: keepDims) }

    /// The mean over `axes` (all axes when nil).
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let normalised = reductionAxes(axes, op: "mean")
        let n = normalised.reduce(1) { $0 * shape[$1] }
        return sum(axes: normalised, keepDims: keepDims) / Float(Swift.max(n, 1))
    }

    /// The mean over one axis.
    public func mean(axis: Int, keepDims: Bool = false) -> Tensor { mean(axes: [axis], keepDims: keepDims) }

    /// The maximum over `axes` (all axes when nil). The gradient goes to the
    /// maximal elements, shared equally among ties.
    public func max(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let axes = reductionAxes(axes, op: "max")
        ensure(axes.allSatisfy { shape[$0] > 0 }, "max: cannot reduce an empty axis of shape \(shape)")
        let kept = foldValues(axes: axes, initial: -.infinity) { Swift.max($0, $1) }
        var result = kept.reshaped(droppingAxes(axes, keepDims: keepDims))
        let x = self
        result.recordGradient("max", inputs: [self]) { g in
            let isMax = (x .== kept).asFloat
            let share = isMax / isMax.sum(axes: axes, keepDims: true)
            return [share * g.reshaped(kept.shape)]
        }
        return result
    }

    /// The maximum over one axis.
    public func max(axis: Int, keepDims: Bool = false) -> Tensor { max(axes: [axis], keepDims: keepDims) }

    /// log(sum(exp(x))) over `axes`, computed stably by shifting by the maximum.
    public func logSumExp(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let axes = reductionAxes(axes, op: "logSumExp")
        let shift = detached().max(axes: axes, keepDims: true).mapValues { $0.isFinite ? $0 : 0 }
        let kept = log(exp(self - shift).sum(axes: axes, keepDims: true)) + shift
        return kept.reshaped(droppingAxes(axes, keepDims: keepDims))
    }

    /// log(sum(exp(x))) over one axis.
    public func logSumExp(axis: Int, keepDims: Bool = false) -> Tensor { logSumExp(axes: [axis], keepDims: keepDims) }

    /// The index of the largest element along `axis` (the first on ties).
    public func argmax(axis: Int = -1) -> IntTensor {
        let axis = Shape.axis(axis, rank: rank, op: "argmax")
        let size = shape[axis]
        ensure(size > 0, "argmax: axis \(axis) of shape \(shape) is empty")
        let outer = shape[..<axis].reduce(1, *)
        let inner = shape[(axis + 1)...].reduce(1, *)
        var out = [Int](repeating: 0, count: outer * inner)
        scalars.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { out in
                if inner == 1 && outer > 0 {
                    // Along the last axis (the classes), vectorised across rows.
                    ck_argmax_rows(src.baseAddress!, outer, size, out.baseAddress!)
                    return
                }
                for o in 0..<outer {
                    for i in 0..<inner {
                        var best = src[o * size * inner + i], bestIndex = 0
                        for k in 1..<Swift.max(size, 1) {
                            let v = src[(o * size + k) * inner + i]
                            if v > best || (best.isNaN && !v.isNaN) {
                                best = v
                                bestIndex = k
                            }
                        }
                        out[o * inner + i] = bestIndex
                    }
                }
            }
        }
        var outShape = shape
        outShape.remove(at: axis)
        return IntTensor(shape: outShape, scalars: out)
    }

    /// The tensor repeated along its size-1 (and missing leading) axes to `target`.
    public func broadcast(to target: [Int]) -> Tensor {
        if shape == target { return self }
        let resultShape = Shape.broadcast(shape, target, op: "broadcast(to:)")
        ensure(resultShape == target, "broadcast(to:): shape \(shape) cannot be broadcast to \(target)")
        var result = Tensor.zipValues(self, Tensor.zeros(target), op: "broadcast(to:)") { x, _ in x }
        let source = shape
        result.recordGradient("broadcast(to:)", inputs: [self]) { g in [g.reduced(toShape: source)] }
        return result
    }
}
