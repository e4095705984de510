import CKernels

// Arithmetic operators with NumPy/PyTorch broadcasting.

extension Tensor {
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        var result = addingRepeated(a, b) ?? addingRepeated(b, a) ?? zipValues(a, b, op: "+") { $0 + $1 }
        result.recordGradient("+", inputs: [a, b]) { g in
            [g.reduced(toShape: a.shape), g.reduced(toShape: b.shape)]
        }
        return result
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        var result = zipValues(a, b, op: "-") { $0 - $1 }
        result.recordGradient("-", inputs: [a, b]) { g in
            [g.reduced(toShape: a.shape), (-g).reduced(toShape: b.shape)]
        }
        return result
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        var result = zipValues(a, b, op: "*") { $0 * $1 }
        result.recordGradient("*", inputs: [a, b]) { g in
            [(g * b).reduced(toShape: a.shape), (g * a).reduced(toShape: b.shape)]
        }
        return result
    }

    public static func / (a: Tensor, b: Tensor) -> Tensor {
        var result = zipValues(a, b, op: "/") { $0 / $1 }
        result.recordGradient("/", inputs: [a, b]) { g in
            [(g / b).reduced(toShape: a.shape), (-g * a / (b * b)).reduced(toShape: b.shape)]
        }
        return result
    }

    public static prefix func - (a: Tensor) -> Tensor {
        var result = a.mapValues { -$0 }
        result.recordGradient("negation", inputs: [a]) { g in [-g] }
        return result
    }

    public static func + (a: Tensor, s: Float) -> Tensor {
        var result = a.mapValues { $0 + s }
        result.recordGradient("+", inputs: [a]) { g in [g] }
        return result
    }

    public static func + (s: Float, a: Tensor) -> Tensor { a + s }

    public static func - (a: Tensor, s: Float) -> Tensor { a + (-s) }

    public static func - (s: Float, a: Tensor) -> Tensor {
        var result = a.mapValues { s - $0 }
        result.recordGradient("-", inputs: [a]) { g in [-g] }
        return result
    }

    public static func * (a: Tensor, s: Float) -> Tensor {
        var result = a.mapValues { $0 * s }
        result.recordGradient("*", inputs: [a]) { g in [g * s] }
        return result
    }

    public static func * (s: Float, a: Tensor) -> Tensor { a * s }

    public static func / (a: Tensor, s: Float) -> Tensor {
        var result = a.mapValues { $0 / s }
        result.recordGradient("/", inputs: [a]) { g in [g / s] }
        return result
    }

    public static func / (s: Float, a: Tensor) -> Tensor {
        var result = a.mapValues { s / $0 }
        result.recordGradient("/", inputs: [a]) { g in [-g * s / (a * a)] }
        return result
    }

    public static func += (a: inout Tensor, b: Tensor) { a = a + b }
    public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
    public static func *= (a: inout Tensor, b: Tensor) { a = a * b }
    public static func /= (a: inout Tensor, b: Tensor) { a = a / b }
    public static func += (a: inout Tensor, s: Float) { a = a + s }
    public static func -= (a: inout Tensor, s: Float) { a = a - s }
    public static func *= (a: inout Tensor, s: Float) { a = a * s }
    public static func /= (a: inout Tensor, s: Float) { a = a / s }
}

extension Tensor {
    /// big + small where small repeats whole over big's leading axes (a
    /// bias, [N, C] + [C]) or per outer index over its middle axes (a
    /// per-image vector, [B, H, W, C] + [B, 1, 1, C]): a vectorised C loop
    /// over the cores. Nil for other shapes (untracked).
    static func addingRepeated(_ big: Tensor, _ small: Tensor) -> Tensor? {
        guard big.shape != small.shape, big.count >= 4096 else { return nil }
        let inner: Int, rowsPerSmall: Int
        if let block = trailingBlock(small.shape, of: big.shape),
            Shape.broadcast(big.shape, small.shape, op: "+") == big.shape
        {
            (inner, rowsPerSmall) = (block, big.count / Swift.max(block, 1))
        } else if let split = outerInnerSplit(small.shape, of: big.shape) {
            (inner, rowsPerSmall) = (split.inner, split.middle)
        } else {
            return nil
        }
        guard inner > 0 else { return nil }
        let rows = big.count / inner
        let out = [Float](unsafeUninitializedCapacity: big.count) { buffer, initialized in
            initialized = big.count
            big.scalars.withUnsafeBufferPointer { pa in
                small.scalars.withUnsafeBufferPointer { pb in
                    let (a, b, o) = (
                        UInt(bitPattern: pa.baseAddress), UInt(bitPattern: pb.baseAddress),
                        UInt(bitPattern: buffer.baseAddress)
                    )
                    Parallel.ranges(rows, elementsPerItem: inner) { range in
                        ck_add_repeated(
                            UnsafePointer<Float>(bitPattern: a)!, range.lowerBound, range.count, inner,
                            UnsafePointer<Float>(bitPattern: b)!, rowsPerSmall,
                            UnsafeMutablePointer<Float>(bitPattern: o)!)
                    }
                }
            }
        }
        return Tensor(shape: big.shape, scalars: out)
    }
}
