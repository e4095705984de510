import CKernels

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// Elementwise mathematical functions, each with its derivative.

/// e^x, elementwise (vectorised, to about 1 ulp; results below the normal
/// range flush to 0).
public func exp(_ x: Tensor) -> Tensor {
    var result = x.applyingKernel(ck_exp)
    let y = result
    result.recordGradient("exp", inputs: [x]) { g in [g * y] }
    return result
}

/// The natural logarithm, elementwise (vectorised, to about 1 ulp; -infinity
/// at 0). Add a small epsilon first where a probability may be exactly zero.
public func log(_ x: Tensor) -> Tensor {
    var result = x.applyingKernel(ck_log)
    result.recordGradient("log", inputs: [x]) { g in [g / x] }
    return result
}

extension Tensor {
    /// The values through an elementwise C kernel `(x, y, n)`, split over the cores.
    func applyingKernel(_ kernel: @convention(c) (UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int) -> Void)
        -> Tensor
    {
        let n = count
        let values = [Float](unsafeUninitializedCapacity: n) { y, initialized in
            initialized = n
            scalars.withUnsafeBufferPointer { src in
                let (s, d) = (UInt(bitPattern: src.baseAddress), UInt(bitPattern: y.baseAddress))
                Parallel.ranges(n) { range in
                    kernel(
                        UnsafePointer(bitPattern: s)! + range.lowerBound,
                        UnsafeMutablePointer(bitPattern: d)! + range.lowerBound, range.count)
                }
            }
        }
        return Tensor(shape: shape, scalars: values)
    }
}

/// The square root, elementwise.
public func sqrt(_ x: Tensor) -> Tensor {
    var result = x.mapValues { sqrtf($0) }
    let y = result
    result.recordGradient("sqrt", inputs: [x]) { g in [g / (2 * y)] }
    return result
}

/// The sine, elementwise.
public func sin(_ x: Tensor) -> Tensor {
    var result = x.mapValues { sinf($0) }
    result.recordGradient("sin", inputs: [x]) { g in [g * cos(x)] }
    return result
}

/// The cosine, elementwise.
public func cos(_ x: Tensor) -> Tensor {
    var result = x.mapValues { cosf($0) }
    result.recordGradient("cos", inputs: [x]) { g in [-g * sin(x)] }
    return result
}

/// The absolute value, elementwise (gradient sign(x), 0 at 0).
public func abs(_ x: Tensor) -> Tensor {
    var result = x.mapValues { Swift.abs($0) }
    result.recordGradient("abs", inputs: [x]) { g in [g * x.mapValues { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }] }
    return result
}

/// The logistic sigmoid 1 / (1 + e^-x), elementwise.
public func sigmoid(_ x: Tensor) -> Tensor {
    var result = x.mapValues { 1 / (1 + expf(-$0)) }
    let y = result
    result.recordGradient("sigmoid", inputs: [x]) { g in [g * y * (1 - y)] }
    return result
}

/// The SiLU (swish) activation x * sigmoid(x), elementwise.
public func silu(_ x: Tensor) -> Tensor {
    let n = x.count
    let values = [Float](unsafeUninitializedCapacity: n) { y, initialized in
        initialized = n
        x.scalars.withUnsafeBufferPointer { src in
            let (s, d) = (UInt(bitPattern: src.baseAddress), UInt(bitPattern: y.baseAddress))
            Parallel.ranges(n) { range in
                ck_silu(
                    UnsafePointer(bitPattern: s)! + range.lowerBound,
                    UnsafeMutablePointer(bitPattern: d)! + range.lowerBound, range.count)
            }
        }
    }
    var result = Tensor(shape: x.shape, scalars: values)
    result.recordGradient("silu", inputs: [x]) { g in
        let gradient = [Float](unsafeUninitializedCapacity: n) { dx, initialized in
            initialized = n
            x.scalars.withUnsafeBufferPointer { src in
                g.scalars.withUnsafeBufferPointer { dy in
                    let (s, gy, d) = (
                        UInt(bitPattern: src.baseAddress), UInt(bitPattern: dy.baseAddress),
                        UInt(bitPattern: dx.baseAddress)
                    )
                    Parallel.ranges(n) { range in
                        ck_silu_backward(
                            UnsafePointer(bitPattern: s)! + range.lowerBound,
                            UnsafePointer(bitPattern: gy)! + range.lowerBound,
                            UnsafeMutablePointer(bitPattern: d)! + range.lowerBound, range.count)
                    }
                }
            }
        }
        return [Tensor(shape: x.shape, scalars: gradient)]
    }
    return result
}

extension Tensor {
    /// The elements limited to `[min, max]` (PyTorch's `clamp`). The gradient
    /// passes where the element lies inside the range, bounds included.
    public func clamped(min lower: Float = -.infinity, max upper: Float = .infinity) -> Tensor {
        ensure(lower <= upper, "clamped: min \(lower) is greater than max \(upper)")
        var result = mapValues { Swift.min(Swift.max($0, lower), upper) }
        let x = self
        result.recordGradient("clamped", inputs: [self]) { g in
            [g * x.mapValues { $0 >= lower && $0 <= upper ? 1 : 0 }]
        }
        return result
    }

    /// Each element squared.
    public func squared() -> Tensor { self * self }
}
