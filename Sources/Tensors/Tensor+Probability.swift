// Softmax, log-softmax and cross-entropy over the class axis.
import CKernels

/// exp(x) / sum(exp(x)) along `axis`, computed stably.
public func softmax(_ x: Tensor, axis: Int = -1) -> Tensor {
    exp(logSoftmax(x, axis: axis))
}

/// x - logsumexp(x) along `axis`: log-probabilities from logits.
public func logSoftmax(_ x: Tensor, axis: Int = -1) -> Tensor {
    let axis = Shape.axis(axis, rank: x.rank, op: "logSoftmax")
    if axis == x.rank - 1 { return lastAxisLogSoftmax(x) }
    let shift = x.detached().max(axes: [axis], keepDims: true).mapValues { $0.isFinite ? $0 : 0 }
    let shifted = Tensor.zipValues(x.detached(), shift, op: "logSoftmax") { $0 - $1 }
    let logNorm = shifted.mapValues { expf($0) }.sum(axes: [axis], keepDims: true).mapValues { logf($0) }
    var result = Tensor.zipValues(shifted, logNorm, op: "logSoftmax") { $0 - $1 }
    let y = result
    result.recordGradient("logSoftmax", inputs: [x]) { g in
        [g - exp(y) * g.sum(axes: [axis], keepDims: true)]
    }
    return result
}

/// The mean negative log-likelihood of `targets` under `logits`
/// (PyTorch's `F.cross_entropy` with the classes on the last axis).
///
/// - Parameters:
///   - logits: shape `[..., K]`.
///   - targets: class indices of shape `[...]`.
public func crossEntropy(_ logits: Tensor, targets: IntTensor) -> Tensor {
    ensure(
        Array(logits.shape.dropLast()) == targets.shape,
        "crossEntropy: logits of shape \(logits.shape) need targets of shape \(Array(logits.shape.dropLast())), got \(targets.shape)"
    )
    let k = logits.shape.last ?? 0
    let logProbabilities = logSoftmax(logits, axis: -1).reshaped([-1, k])
    let picked = logProbabilities.gather(axis: 1, index: targets.reshaped([-1, 1]))
    return -picked.mean()
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// logSoftmax over the last axis in one pass per row, forward and backward:
/// the class axis of the posterior is short (K = 4), where the general
/// path's six passes and temporaries dominate.
func lastAxisLogSoftmax(_ x: Tensor) -> Tensor {
    let k = x.shape.last ?? 1
    let rows = x.count / Swift.max(k, 1)
    let out = [Float](unsafeUninitializedCapacity: x.count) { dst, initialized in
        initialized = x.count
        x.scalars.withUnsafeBufferPointer { src in
            let (s, d) = (UInt(bitPattern: src.baseAddress), UInt(bitPattern: dst.baseAddress))
            Parallel.ranges(rows, elementsPerItem: k) { range in
                let src = UnsafePointer<Float>(bitPattern: s)!, dst = UnsafeMutablePointer<Float>(bitPattern: d)!
                // (x - m) - log(total): subtracting the maximum first keeps large logits exact.
                ck_log_softmax_rows(
                    src + range.lowerBound * k, range.count, k, dst + range.lowerBound * k)
            }
        }
    }
    var result = Tensor(shape: x.shape, scalars: out)
    let y = result
    result.recordGradient("logSoftmax", inputs: [x]) { g in
        let grad = [Float](unsafeUninitializedCapacity: x.count) { dst, initialized in
            initialized = x.count
            g.scalars.withUnsafeBufferPointer { gs in
                y.scalars.withUnsafeBufferPointer { ys in
                    let (ga, ya, d) = (
                        UInt(bitPattern: gs.baseAddress), UInt(bitPattern: ys.baseAddress),
                        UInt(bitPattern: dst.baseAddress)
                    )
                    Parallel.ranges(rows, elementsPerItem: k) { range in
                        let gs = UnsafePointer<Float>(bitPattern: ga)!, ys = UnsafePointer<Float>(bitPattern: ya)!
                        let dst = UnsafeMutablePointer<Float>(bitPattern: d)!
                        let first = range.lowerBound * k
                        ck_log_softmax_rows_backward(gs + first, ys + first, range.count, k, dst + first)
                    }
                }
            }
        }
        return [Tensor(shape: x.shape, scalars: grad)]
    }
    return result
}
