import Foundation
import Testing

@testable import Tensors

/// Every kernel path this processor supports (AVX-512, AVX2, SSE2 on x86-64;
/// NEON on arm64) computes the matrix product, the three convolution
/// algorithms (values and kernel gradients), GroupNorm's channel loops and
/// exp and log as their definitions say. Each path runs in a process of its
/// own, since the path is a process-wide setting.
@Suite("Kernel paths")
struct KernelPathTests {
    @Test func theBestSupportedPathIsChosenAtStartAndBaselineIsAlwaysSupported() {
        #expect(KernelPath.supported.contains(KernelPath.best))
        #expect(KernelPath.all.last.map(\.isSupported) == true, "the baseline path runs everywhere")
        #expect(KernelPath(named: "avx1024") == nil)
    }

    @Test(arguments: KernelPath.supported.map(\.name))
    func everyKernelMatchesItsDefinition(_ path: String) async {
        await #expect(processExitsWith: .success) { [path = path as String] in
            Compute.configure(ComputeConfiguration(kernels: KernelPath(named: path)))
            guard Compute.kernelPath.name == path else { exit(2) }
            exit(kernelSelfCheck().isEmpty ? 0 : 1)
        }
    }
}

/// The kernels against their definitions; the failures, named.
func kernelSelfCheck() -> [String] {
    var failures: [String] = []
    func check(_ condition: Bool, _ what: String) { if !condition { failures.append(what) } }
    for (m, k, n) in [(1, 1, 1), (7, 5, 3), (13, 300, 37), (200, 17, 65), (1001, 32, 4), (301, 7, 16)] {
        let a = randomTensor([m, k], seed: UInt64(m)), b = randomTensor([k, n], seed: UInt64(n))
        var expected = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n { for p in 0..<k { expected[i * n + j] += a.scalars[i * k + p] * b.scalars[p * n + j] } }
        }
        check(
            allClose(matmul(a, b), Tensor(shape: [m, n], scalars: expected), rtol: 1e-4, atol: 1e-4),
            "matmul \(m)x\(k)x\(n)")
    }
    // A^T B with few columns (a 1 x 1 convolution's weight gradient), B plain or transposed.
    // (200, 3000, 8) is split by rows between threads: each part reads rows of A wider than its own.
    for (m, k, n) in [(32, 1000, 4), (37, 130, 3), (5, 64, 8), (70, 90, 1), (200, 3000, 8)] {
        let a = randomTensor([k, m], seed: UInt64(m)), b = randomTensor([k, n], seed: UInt64(n))
        var expected = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n { for p in 0..<k { expected[i * n + j] += a.scalars[p * m + i] * b.scalars[p * n + j] } }
        }
        let definition = Tensor(shape: [m, n], scalars: expected)
        check(
            allClose(batchedProduct(a, transA: true, b, transB: false, op: "test"), definition, rtol: 1e-4, atol: 1e-4),
            "A^T B \(m)x\(k)x\(n)")
        check(
            allClose(
                batchedProduct(a, transA: true, b.transposed(), transB: true, op: "test"), definition, rtol: 1e-4,
                atol: 1e-4),
            "A^T B^T \(m)x\(k)x\(n)")
    }
    for (b, h, w, c, o) in [
        (2, 6, 10, 8, 7), (2, 28, 28, 32, 32), (1, 8, 12, 16, 48), (1, 5, 7, 1, 32), (3, 7, 7, 16, 32),
        (2, 14, 14, 16, 16),
    ] {
        let x = randomTensor([b, h, w, c], seed: 34), kernel = randomTensor([9 * c, o], seed: 35),
            bias = randomTensor([o], seed: 37)
        let definition = matmul(x.patches(kernelSize: 3, padding: 1), kernel).reshaped(b, h, w, o) + bias
        let gradient = randomTensor([b, h, w, o], seed: 36)
        let kernelGradient = matmul(x.patches(kernelSize: 3, padding: 1).transposed(), gradient.reshaped(-1, o))
        for algorithm in Convolution3x3Algorithm.allCases
        where algorithm.applies(height: h, width: w, channels: c, outputs: o) {
            // F(7 x 7)'s 9 x 9 transforms round more: up to about 5e-4 of the outputs' scale at 32 channels.
            func matches(_ result: Tensor) -> Bool {
                algorithm == .winograd7x7
                    ? closeRelativeToScale(result, definition, tolerance: 2e-3)
                    : allClose(result, definition, rtol: 1e-4, atol: 1e-4)
            }
            check(
                matches(Tensor.convolution3x3(x, kernel, bias: bias, algorithm: algorithm)),
                "\(algorithm) convolution [\(b), \(h), \(w), \(c)] -> \(o)")
            // With the kernel transformed once and reused (inference).
            withCachedWeights {
                for call in 1...2 {
                    check(
                        matches(Tensor.convolution3x3(x, kernel, bias: bias, algorithm: algorithm)),
                        "\(algorithm) convolution [\(b), \(h), \(w), \(c)] -> \(o), cached kernel, call \(call)")
                }
            }
            if algorithm != .direct {
                check(
                    allClose(
                        Tensor.convolution3x3KernelGradient(x, gradient, algorithm: algorithm), kernelGradient,
                        rtol: 1e-3, atol: 1e-3),
                    "\(algorithm) kernel gradient [\(b), \(h), \(w), \(c)] -> \(o)")
            }
        }
    }
    let positives = (0..<1003).map { Float(Foundation.pow(10.0, -44.0 + 74.0 * Double($0) / 1002)) }
    for (value, result) in zip(positives, log(Tensor(positives)).scalars) {
        let expected = Foundation.log(Double(value))
        check(abs(Double(result) - expected) <= 2e-7 * max(1, abs(expected)), "log(\(value))")
    }
    let exponents = (0..<1003).map { -87 + 175 * Float($0) / 1002 }
    for (value, result) in zip(exponents, exp(Tensor(exponents)).scalars) {
        check(
            abs(Double(result) - Foundation.exp(Double(value))) <= 3e-7 * Foundation.exp(Double(value)), "exp(\(value))"
        )
    }
    let specials = log(Tensor([0, -0.0, -1, .infinity, -.infinity, .nan])).scalars
    check(specials[0] == -.infinity && specials[1] == -.infinity && specials[2].isNaN, "log of 0 and negatives")
    check(specials[3] == .infinity && specials[4].isNaN && specials[5].isNaN, "log of infinities and NaN")
    let exponentials = exp(Tensor([-.infinity, -100, 100, .infinity, .nan, 0])).scalars
    check(exponentials[0] == 0 && exponentials[1] == 0 && exponentials[2] == .infinity, "exp of extremes")
    check(exponentials[3] == .infinity && exponentials[4].isNaN && exponentials[5] == 1, "exp of infinities and NaN")
    // GroupNorm + SiLU (the channel loops) against the unfused definition, gradient included.
    let x = randomTensor([2, 4, 4, 32], seed: 40), weights = randomTensor([2, 4, 4, 32], seed: 41)
    let scale = randomTensor([32], seed: 42), shift = randomTensor([32], seed: 43)
    let (fused, fusedGradient) = valueWithGradient(at: x) {
        (groupNormSiLU($0, groups: 8, weight: scale, bias: shift) * weights).sum()
    }
    let (plain, plainGradient) = valueWithGradient(at: x) {
        let normalised = groupNorm($0, groups: 8, weight: scale, bias: shift)
        return (normalised / (1 + exp(-normalised)) * weights).sum()
    }
    check(abs(fused.item - plain.item) <= 1e-3 * max(1, abs(plain.item)), "GroupNorm + SiLU value")
    check(allClose(fusedGradient, plainGradient, rtol: 1e-3, atol: 1e-4), "GroupNorm + SiLU gradient")
    // log softmax along rows of 4, 5 and 7 classes against its definition in
    // Double, gradient included, with large logits and a row holding -infinity.
    for k in [4, 5, 7] {
        var logits = randomTensor([37, k], seed: UInt64(50 + k)) * 30
        logits.scalars[0] = 1e4
        logits.scalars[k] = -.infinity
        let weights = randomTensor([37, k], seed: UInt64(60 + k))
        let (_, gradient) = valueWithGradient(at: logits) { (logSoftmax($0) * weights).sum() }
        let result = logSoftmax(logits)
        var worst = 0.0, worstGradient = 0.0
        for row in 0..<37 {
            let values = (0..<k).map { Double(logits.scalars[row * k + $0]) }
            let m = values.max()!
            let logTotal = Foundation.log(values.reduce(0) { $0 + Foundation.exp($1 - m) })
            let w = (0..<k).map { Double(weights.scalars[row * k + $0]) }
            let weightSum = w.reduce(0, +)
            for j in 0..<k {
                let expected = values[j] - m - logTotal
                let got = Double(result.scalars[row * k + j])
                if expected == -.infinity {
                    if got != -.infinity { worst = .infinity }
                } else {
                    worst = max(worst, abs(got - expected) / max(1, abs(expected)))
                }
                let expectedGradient = w[j] - Foundation.exp(expected) * weightSum
                worstGradient = max(worstGradient, abs(Double(gradient.scalars[row * k + j]) - expectedGradient))
            }
        }
        check(worst <= 1e-6, "logSoftmax over \(k) classes: relative error \(worst)")
        check(worstGradient <= 1e-5, "logSoftmax gradient over \(k) classes: error \(worstGradient)")
    }
    // argmax along rows of 4, 5 and 7 against a plain loop: the first of equal
    // maxima wins, and NaN loses to any number.
    for k in [4, 5, 7] {
        var values = (randomTensor([41, k], seed: UInt64(70 + k)) * 2).scalars.map { ($0 * 2).rounded() }
        values[0] = .nan
        for j in 0..<k { values[k + j] = .nan }
        let result = Tensor(shape: [41, k], scalars: values).argmax(axis: -1).scalars
        let expected = (0..<41).map { row -> Int in
            var best = 0
            for j in 1..<k {
                let (v, b) = (values[row * k + j], values[row * k + best])
                if v > b || (b.isNaN && !v.isNaN) { best = j }
            }
            return best
        }
        check(result == expected, "argmax over \(k) classes: \(result) against \(expected)")
    }
    return failures
}
