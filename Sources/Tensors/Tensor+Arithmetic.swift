// Arithmetic operators with NumPy/PyTorch broadcasting.

extension Tensor {
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        var result = zipValues(a, b, op: "+") { $0 + $1 }
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
