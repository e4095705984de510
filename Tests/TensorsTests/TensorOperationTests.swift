import Foundation
import Testing

@testable import Tensors

@Suite("Tensor values")
struct TensorOperationTests {
    @Test func broadcastingFollowsNumPyRules() {
        let column = Tensor([[1], [2]])
        let row = Tensor([10, 20, 30])
        let sum = column + row
        #expect(sum.shape == [2, 3])
        #expect(sum.scalars == [11, 21, 31, 12, 22, 32])
        #expect((row * 2).scalars == [20, 40, 60])
    }

    @Test func everyBroadcastPathAgreesWithTheDefinition() {
        let a = randomTensor([2, 3, 4], seed: 41)
        for shape in [[2, 1, 4], [2, 1, 1], [1, 1, 4], [4], [1, 3, 1], [2, 3, 1]] {
            let b = randomTensor(shape, seed: 42)
            let strides = Shape.broadcastStrides(shape, to: [2, 3, 4])
            var expected = [Float]()
            for i in 0..<2 {
                for j in 0..<3 {
                    for k in 0..<4 {
                        expected.append(a[at: i, j, k] - b.scalars[i * strides[0] + j * strides[1] + k * strides[2]])
                    }
                }
            }
            #expect((a - b).scalars == expected, "[2, 3, 4] - \(shape)")
            #expect((b - a).scalars == expected.map { -$0 }, "\(shape) - [2, 3, 4]")
        }
    }

    /// Large enough for the vectorised addition split over the cores, with
    /// the split falling inside an image.
    @Test func addingARepeatedBiasOrPerImageVectorAgreesWithTheDefinition() {
        let big = randomTensor([3, 50, 70, 16], seed: 43)
        for shape in [[3, 1, 1, 16], [16], [1, 70, 16], [1, 1, 1, 16]] {
            let small = randomTensor(shape, seed: 44)
            let strides = Shape.broadcastStrides(shape, to: big.shape)
            var expected = [Float](repeating: 0, count: big.count)
            var i = 0
            for n in 0..<3 {
                for y in 0..<50 {
                    for x in 0..<70 {
                        for c in 0..<16 {
                            expected[i] =
                                big.scalars[i]
                                + small.scalars[n * strides[0] + y * strides[1] + x * strides[2] + c * strides[3]]
                            i += 1
                        }
                    }
                }
            }
            #expect((big + small).scalars == expected, "[3, 50, 70, 16] + \(shape)")
            #expect((small + big).scalars == expected, "\(shape) + [3, 50, 70, 16]")
        }
    }

    @Test func spreadingBlocksMatchesThePermutationPlusBias() {
        let blocks = randomTensor([3, 5, 7, 2, 2, 16], seed: 45), bias = randomTensor([16], seed: 46)
        let weights = randomTensor([3, 10, 14, 16], seed: 47)
        let (fused, fusedGradients) = valueWithGradient(at: [blocks, bias]) {
            ($0[0].spreadingBlocks2x2(bias: $0[1]) * weights).sum()
        }
        let (composed, composedGradients) = valueWithGradient(at: [blocks, bias]) {
            (($0[0].permuted(0, 1, 3, 2, 4, 5).reshaped(3, 10, 14, 16) + $0[1]) * weights).sum()
        }
        #expect(abs(fused.item - composed.item) <= 1e-3)
        #expect(
            blocks.spreadingBlocks2x2(bias: bias).scalars
                == (blocks.permuted(0, 1, 3, 2, 4, 5).reshaped(3, 10, 14, 16) + bias).scalars)
        #expect(fusedGradients[0].scalars == composedGradients[0].scalars)
        #expect(allClose(fusedGradients[1], composedGradients[1], rtol: 1e-5, atol: 1e-5))
    }

    @Test func averagePoolingMatchesTheMeanOfEachBlock() {
        let x = randomTensor([3, 10, 6, 16], seed: 48), weights = randomTensor([3, 5, 3, 16], seed: 49)
        let (pooled, pooledGradient) = valueWithGradient(at: x) { ($0.averagePooled2x2() * weights).sum() }
        let (mean, meanGradient) = valueWithGradient(at: x) {
            ($0.reshaped(3, 5, 2, 3, 2, 16).mean(axes: [2, 4]) * weights).sum()
        }
        #expect(
            allClose(x.averagePooled2x2(), x.reshaped(3, 5, 2, 3, 2, 16).mean(axes: [2, 4]), rtol: 1e-6, atol: 1e-6))
        #expect(abs(pooled.item - mean.item) <= 1e-4)
        #expect(allClose(pooledGradient, meanGradient, rtol: 1e-6, atol: 1e-6))
    }

    @Test func creationFunctions() {
        #expect(Tensor.eye(3).scalars == [1, 0, 0, 0, 1, 0, 0, 0, 1])
        #expect(Tensor.linspace(0.01, 0.2, count: 5).scalars.last == 0.2)
        #expect(allClose(Tensor.linspace(0, 1, count: 5), Tensor([0, 0.25, 0.5, 0.75, 1])))
        #expect(Tensor.arange(4).scalars == [0, 1, 2, 3])
        #expect(Tensor([[[1, 2]], [[3, 4]]]).shape == [2, 1, 2])
        #expect(Tensor.full([2, 2], 7).scalars == [7, 7, 7, 7])
    }

    @Test func reductionsOverAxes() {
        let x = Tensor(shape: [2, 3], scalars: [1, 5, 3, 4, 2, 6])
        #expect(x.sum(axis: 0).scalars == [5, 7, 9])
        #expect(x.sum(axis: 1, keepDims: true).shape == [2, 1])
        #expect(x.max(axis: 1).scalars == [5, 6])
        #expect(x.argmax(axis: 1).scalars == [1, 2])
        #expect(x.argmax(axis: 0).scalars == [1, 0, 1])
        // Along the last axis and any other, the first of equal maxima wins and NaN loses to any number.
        let ties = Tensor(shape: [3, 4], scalars: [2, 7, 7, 1, .nan, -3, .nan, -1, .nan, .nan, .nan, .nan])
        #expect(ties.argmax(axis: -1).scalars == [1, 3, 0])
        #expect(ties.transposed().argmax(axis: 0).scalars == [1, 3, 0])
        #expect(x.mean().item == 3.5)
        // Leading axes of a large tensor: the row sums are split over the cores.
        let large = randomTensor([7001, 3, 5], seed: 9)
        var expected = [Double](repeating: 0, count: 5)
        for (i, v) in large.scalars.enumerated() { expected[i % 5] += Double(v) }
        let leading = large.sum(axes: [0, 1])
        #expect(leading.shape == [5])
        #expect(allClose(leading, Tensor(expected.map(Float.init)), rtol: 1e-4, atol: 1e-3))
        let lse = x.logSumExp(axis: 1)
        #expect(allClose(lse, log(exp(x).sum(axis: 1)), rtol: 1e-5))
    }

    @Test func sumOverMiddleAxesMatchesTheDefinition() {
        // [B, H, W, C] -> [B, 1, 1, C]: the gradient of a per-image bias, split over the cores.
        let x = randomTensor([9, 28, 28, 12], seed: 11)
        var expected = [Double](repeating: 0, count: 9 * 12)
        for (i, v) in x.scalars.enumerated() { expected[i / (28 * 28 * 12) * 12 + i % 12] += Double(v) }
        let sums = x.sum(axes: [1, 2], keepDims: true)
        #expect(sums.shape == [9, 1, 1, 12])
        #expect(
            allClose(sums, Tensor(shape: [9, 1, 1, 12], scalars: expected.map(Float.init)), rtol: 1e-4, atol: 1e-4))
        #expect(x.sum(axes: [1, 2]).shape == [9, 12])
        #expect(allClose(x.sum(axes: [1]).sum(axes: [1]), x.sum(axes: [1, 2]), rtol: 1e-5, atol: 1e-4))
    }

    @Test func logSoftmaxOfManyRowsMatchesTheDefinitionWithItsGradient() {
        // Large enough to be split over the cores: [B, 1, H, W, K] logits.
        let x = randomTensor([32, 1, 28, 28, 4], seed: 12, low: -8, high: 8)
        let g = randomTensor([32, 1, 28, 28, 4], seed: 13)
        let (y, gradients) = valueWithGradient(at: [x]) { (logSoftmax($0[0], axis: -1) * g).sum() }
        let rows = logSoftmax(x, axis: -1)
        var expected = [Float](), expectedGradient = [Float]()
        for row in 0..<(x.count / 4) {
            let values = (0..<4).map { Double(x.scalars[4 * row + $0]) }
            let logTotal = Foundation.log(values.map { Foundation.exp($0) }.reduce(0, +))
            let logProbabilities = values.map { $0 - logTotal }
            expected += logProbabilities.map(Float.init)
            let gRow = (0..<4).map { Double(g.scalars[4 * row + $0]) }
            let gTotal = gRow.reduce(0, +)
            expectedGradient += (0..<4).map { Float(gRow[$0] - Foundation.exp(logProbabilities[$0]) * gTotal) }
        }
        #expect(allClose(rows, Tensor(shape: x.shape, scalars: expected), rtol: 1e-5, atol: 1e-5))
        #expect(allClose(gradients[0], Tensor(shape: x.shape, scalars: expectedGradient), rtol: 1e-4, atol: 1e-5))
        #expect(y.item.isFinite)
    }

    @Test func softmaxRowsSumToOneAndSurviveLargeLogits() {
        let x = Tensor([[1000, 1001, 999], [-5, 0, 5]])
        let p = softmax(x)
        #expect(allClose(p.sum(axis: -1), Tensor([1, 1])))
        #expect(p.scalars.allSatisfy { $0.isFinite })
        #expect(allClose(logSoftmax(x), log(p), atol: 1e-5))
    }

    @Test func expAndLogMatchTheLibraryAndKeepTheSpecialValues() {
        // 1003 values from 1e-44 (subnormal) to 1e30, through the vector loop and its tail.
        let positives = (0..<1003).map { Float(Foundation.pow(10.0, -44.0 + 74.0 * Double($0) / 1002)) }
        for (value, result) in zip(positives, log(Tensor(positives)).scalars) {
            let expected = Foundation.log(Double(value))
            #expect(
                abs(Double(result) - expected) <= 2e-7 * max(1, abs(expected)),
                "log(\(value)) = \(result), expected \(expected)")
        }
        let exponents = (0..<1003).map { -87 + 175 * Float($0) / 1002 }
        for (value, result) in zip(exponents, exp(Tensor(exponents)).scalars) {
            let expected = Foundation.exp(Double(value))
            #expect(
                abs(Double(result) - expected) <= 3e-7 * expected, "exp(\(value)) = \(result), expected \(expected)")
        }
        let specials = log(Tensor([0, -0.0, -1, .infinity, -.infinity, .nan])).scalars
        #expect(specials[0] == -.infinity && specials[1] == -.infinity && specials[2].isNaN)
        #expect(specials[3] == .infinity && specials[4].isNaN && specials[5].isNaN)
        let exponentials = exp(Tensor([-.infinity, -100, 100, .infinity, .nan, 0])).scalars
        #expect(exponentials[0] == 0 && exponentials[1] == 0 && exponentials[2] == .infinity)
        #expect(exponentials[3] == .infinity && exponentials[4].isNaN && exponentials[5] == 1)
    }

    @Test func matmulAgreesWithTheDefinition() {
        // Tiny, odd, wide, and one vector wide or less (the 1 x 1 convolution to K levels).
        for (m, k, n) in [
            (1, 1, 1), (7, 5, 3), (13, 300, 37), (200, 17, 65), (1001, 32, 4), (301, 7, 16), (50, 600, 9),
        ] {
            let a = randomTensor([m, k], seed: UInt64(m)), b = randomTensor([k, n], seed: UInt64(n))
            var expected = [Float](repeating: 0, count: m * n)
            for i in 0..<m {
                for j in 0..<n { for p in 0..<k { expected[i * n + j] += a.scalars[i * k + p] * b.scalars[p * n + j] } }
            }
            let product = Tensor(shape: [m, n], scalars: expected)
            #expect(allClose(matmul(a, b), product, rtol: 1e-4, atol: 1e-4), "m \(m), k \(k), n \(n)")
            let viaTransposedB = batchedProduct(a, transA: false, b.transposed(), transB: true, op: "test")
            #expect(allClose(viaTransposedB, product, rtol: 1e-4, atol: 1e-4), "B transposed: m \(m), k \(k), n \(n)")
        }
    }

    @Test func fewRowsWithALongReductionMatchTheDefinitionWhateverTheThreadCount() {
        // The kernel gradient's shape (m = channels, k = pixels): the reduction is cut into parts.
        for (transA, transB) in [(true, false), (false, false), (true, true)] {
            let (m, n, k) = (20, 50, 9001)
            let a = randomTensor(transA ? [k, m] : [m, k], seed: 21),
                b = randomTensor(transB ? [n, k] : [k, n], seed: 22)
            var expected = [Double](repeating: 0, count: m * n)
            for i in 0..<m {
                for p in 0..<k {
                    let aValue = Double(transA ? a.scalars[p * m + i] : a.scalars[i * k + p])
                    for j in 0..<n {
                        expected[i * n + j] += aValue * Double(transB ? b.scalars[j * k + p] : b.scalars[p * n + j])
                    }
                }
            }
            var results: [[Float]] = []
            for threads in [1, 2, 3] {
                var c = [Float](repeating: 1, count: m * n)
                a.scalars.withUnsafeBufferPointer { aBuffer in
                    b.scalars.withUnsafeBufferPointer { bBuffer in
                        c.withUnsafeMutableBufferPointer { cBuffer in
                            MatrixProduct.sgemm(
                                transA: transA, transB: transB, m: m, n: n, k: k, alpha: 2, a: aBuffer.baseAddress!,
                                lda: transA ? m : k, b: bBuffer.baseAddress!, ldb: transB ? k : n, beta: 0.5,
                                c: cBuffer.baseAddress!, ldc: n, threads: threads)
                        }
                    }
                }
                results.append(c)
            }
            let definition = Tensor(shape: [m, n], scalars: expected.map { Float(2 * $0 + 0.5) })
            #expect(allClose(Tensor(shape: [m, n], scalars: results[0]), definition, rtol: 1e-4, atol: 1e-3))
            #expect(results[1] == results[0] && results[2] == results[0], "the same bits on 1, 2 and 3 threads")
        }
    }

    @Test func matmulOnTransposedOperands() {
        let a = randomTensor([3, 40, 30], seed: 1), b = randomTensor([3, 50, 40], seed: 2)
        let direct = matmul(a.transposed(), b.transposed())
        let viaKernel = batchedProduct(a, transA: true, b, transB: true, op: "test")
        #expect(allClose(direct, viaKernel, rtol: 1e-5, atol: 1e-5))
    }

    @Test func vecmatMatchesPerRowProducts() {
        let p = randomTensor([2, 3, 4], seed: 3), q = randomTensor([2, 4, 5], seed: 4)
        let r = vecmat(p, q)
        #expect(r.shape == [2, 3, 5])
        #expect(allClose(r[1], matmul(p[1], q[1])))
    }

    @Test func advancedIndexingPicksRowsPerBatch() {
        let a = Tensor.arange(2 * 3 * 3).reshaped(2, 3, 3)
        let t = IntTensor([1, 0]).reshaped(2, 1)
        let x = IntTensor([[2, 0], [1, 1]])
        let rows = a[t, x]
        #expect(rows.shape == [2, 2, 3])
        #expect(rows.scalars == [15, 16, 17, 9, 10, 11, 3, 4, 5, 3, 4, 5])
        // Both indices broadcast: t [3, 1] against x [2] picks a [3, 2] grid of rows.
        let grid = a[IntTensor([1, 0, 1]).reshaped(3, 1), IntTensor([2, 0])]
        #expect(grid.shape == [3, 2, 3])
        #expect(grid.scalars == [15, 16, 17, 9, 10, 11, 6, 7, 8, 0, 1, 2, 15, 16, 17, 9, 10, 11])
        // An empty index broadcasts the others to nothing: nothing is read, as in NumPy.
        let none = a[IntTensor(shape: [0], scalars: []), IntTensor([99])]
        #expect(none.shape == [0, 3] && none.scalars.isEmpty)
    }

    @Test func oneHotAndCrossEntropy() {
        let labels = IntTensor([2, 0])
        #expect(oneHot(labels, numClasses: 3).scalars == [0, 0, 1, 1, 0, 0])
        let logits = Tensor([[0, 0, 0], [0, 0, 0]])
        #expect(abs(crossEntropy(logits, targets: labels).item - log(Tensor(3)).item) < 1e-6)
    }

    @Test func permuteStackConcat() {
        let x = Tensor.arange(6).reshaped(2, 3)
        #expect(x.transposed().scalars == [0, 3, 1, 4, 2, 5])
        #expect(stack([x, x], axis: 0).shape == [2, 2, 3])
        #expect(concat([x, x], axis: 1).scalars == [0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5])
        #expect(x.permuted(1, 0).permuted(1, 0).scalars == x.scalars)
    }

    @Test func permutingPutsEachValueWhereItsAxesSayWithOrWithoutTheLastAxisMoving() {
        let x = Tensor.arange(2 * 3 * 4 * 5).reshaped(2, 3, 4, 5)
        for axes in [[2, 0, 1, 3], [1, 0, 3, 2], [3, 2, 1, 0]] {
            let y = x.permuted(axes)
            var expected: [Float] = []
            for i in 0..<y.shape[0] {
                for j in 0..<y.shape[1] {
                    for k in 0..<y.shape[2] {
                        for l in 0..<y.shape[3] {
                            var index = [0, 0, 0, 0]
                            (index[axes[0]], index[axes[1]], index[axes[2]], index[axes[3]]) = (i, j, k, l)
                            expected.append(Float(((index[0] * 3 + index[1]) * 4 + index[2]) * 5 + index[3]))
                        }
                    }
                }
            }
            #expect(y.shape == axes.map { x.shape[$0] } && y.scalars == expected, "permuted(\(axes))")
        }
    }

    @Test func valueSemanticsCopyOnWrite() {
        let x = Tensor([1, 2, 3])
        var y = x
        y.scalars[0] = 9
        #expect(x.scalars == [1, 2, 3])
        #expect(y.scalars == [9, 2, 3])
    }

    @Test func whereAndComparisons() {
        let x = Tensor([1, -2, 3])
        #expect(`where`(x .> 0, x, Tensor(0)).scalars == [1, 0, 3])
        #expect((IntTensor([1, 2, 3]) .== 2).values == [false, true, false])
        #expect(`where`(IntTensor([1, 2]) .== 1, IntTensor([7, 7]), IntTensor([0, 0])).scalars == [7, 0])
    }

    /// A per-image mask [B, 1] against values [B, 3] and a scalar: mixed,
    /// all true and all false, with the gradient going to the chosen side only.
    @Test func whereBroadcastsTheMaskAndTheSidesAndRoutesTheGradient() {
        let values = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, .infinity])
        let rows = Tensor(shape: [2, 1], scalars: [1, -1])
        #expect(`where`(rows .> 0, values, Tensor(-7)).scalars == [1, 2, 3, -7, -7, -7])
        #expect(`where`(rows .> -2, values, Tensor(-7)).scalars == [1, 2, 3, 4, 5, .infinity])
        #expect(`where`(rows .> 2, values, Tensor(-7)).scalars == [-7, -7, -7, -7, -7, -7])
        #expect(`where`(rows .> 2, Tensor(-7), values).shape == [2, 3])
        for threshold: Float in [-2, 0, 2] {
            let (_, gradients) = valueWithGradient(at: [values, Tensor(-7)]) {
                (`where`(rows .> threshold, $0[0], $0[1]) * Tensor(shape: [1, 3], scalars: [1, 10, 100])).sum()
            }
            let chosen = rows.scalars.map { $0 > threshold }
            let expected: [Float] = chosen.flatMap { $0 ? [1, 10, 100] : [0, 0, 0] }
            #expect(gradients[0].scalars == expected, "threshold \(threshold)")
            #expect(gradients[1].scalars == [Float(chosen.filter { !$0 }.count) * 111], "threshold \(threshold)")
        }
    }

    @Test func allCloseUsesAbsoluteAndRelativeTolerance() {
        #expect(allClose(Tensor([1000]), Tensor([1000.5]), rtol: 1e-3, atol: 0))
        #expect(!allClose(Tensor([1]), Tensor([1.1]), rtol: 1e-3, atol: 1e-3))
        #expect(!allClose(Tensor([Float.nan]), Tensor([Float.nan])))
        #expect(!allClose(Tensor([1, 2]), Tensor([[1, 2]])))
    }
}

@Suite("Random numbers")
struct RandomTests {
    @Test func sameSeedSameNumbers() {
        var a = RandomGenerator(seed: 42), b = RandomGenerator(seed: 42)
        #expect((0..<100).map { _ in a.next() } == (0..<100).map { _ in b.next() })
    }

    @Test func knownFirstOutputsPinTheAlgorithm() {
        // xoshiro256** seeded by SplitMix64(0): fixed on every platform.
        var rng = RandomGenerator(seed: 0)
        let first = (0..<3).map { _ in rng.next() }
        var again = RandomGenerator(seed: 0)
        #expect(first == (0..<3).map { _ in again.next() })
        #expect(first[0] == 0x99EC_5F36_CB75_F2B4)
    }

    @Test func uniformAndNormalMoments() {
        var rng = RandomGenerator(seed: 7)
        let u = Tensor.uniform([20000], using: &rng)
        #expect(abs(u.mean().item - 0.5) < 0.01)
        #expect(u.scalars.allSatisfy { $0 >= 0 && $0 < 1 })
        let n = Tensor.normal([20000], using: &rng)
        #expect(abs(n.mean().item) < 0.03)
        #expect(abs(n.squared().mean().item - 1) < 0.04)
        let g = Tensor.gumbel([20000], using: &rng)
        #expect(abs(g.mean().item - 0.5772) < 0.03)
        let ints = IntTensor.random([1000], in: 0..<4, using: &rng)
        #expect(Set(ints.scalars) == [0, 1, 2, 3])
    }
}

@Suite("Implicit 3 x 3 convolution")
struct ConvolutionTests {
    /// F(7 x 7) where 7-pixel tiles cover the image with fewer multiply-adds
    /// than 4-pixel ones (MNIST's 28, 14 and 7; CIFAR's 32), F(4 x 4) elsewhere.
    @Test func preferredWinogradTileHasTheFewestMultiplyAdds() {
        // 64 channels: a multiple of every kernel path's vector width.
        func preferred(_ side: Int) -> Convolution3x3Algorithm {
            .preferred(height: side, width: side, channels: 64, outputs: 64)
        }
        for side in [28, 14, 7, 32] { #expect(preferred(side) == .winograd7x7, "\(side) x \(side)") }
        for side in [8, 16, 12] { #expect(preferred(side) == .winograd4x4, "\(side) x \(side)") }
        #expect(Convolution3x3Algorithm.winograd7x7.multiplyAddsPerChannelPair(height: 28, width: 28) == 1296)
        #expect(Convolution3x3Algorithm.winograd4x4.multiplyAddsPerChannelPair(height: 28, width: 28) == 1764)
        #expect(Convolution3x3Algorithm.preferred(height: 28, width: 28, channels: 4, outputs: 32) == .direct)
    }

    @Test(arguments: [(2, 6, 13, 5, 7), (1, 28, 28, 32, 64), (3, 4, 3, 1, 32)])
    func matchesPatchesTimesKernelInValueAndGradient(_ shape: (Int, Int, Int, Int, Int)) {
        let (b, h, w, c, o) = shape
        let x = randomTensor([b, h, w, c], seed: 31), kernel = randomTensor([9 * c, o], seed: 32)
        let weights = randomTensor([b, h, w, o], seed: 33)
        let bias = randomTensor([o], seed: 30)
        let (implicit, implicitGrads) = valueWithGradient(at: [x, kernel, bias]) {
            ($0[0].convolved3x3(with: $0[1], bias: $0[2]) * weights).sum()
        }
        let (explicit, explicitGrads) = valueWithGradient(at: [x, kernel, bias]) {
            ((matmul($0[0].patches(kernelSize: 3, padding: 1), $0[1]).reshaped(b, h, w, o) + $0[2]) * weights).sum()
        }
        #expect(abs(implicit.item - explicit.item) <= 1e-3 * abs(explicit.item) + 1e-3)
        // The input gradient is itself a convolution, by F(7 x 7) on 28 x 28.
        #expect(closeRelativeToScale(implicitGrads[0], explicitGrads[0], tolerance: 2e-3), "input gradient")
        #expect(allClose(implicitGrads[1], explicitGrads[1], rtol: 1e-3, atol: 1e-3), "kernel gradient")
        #expect(allClose(implicitGrads[2], explicitGrads[2], rtol: 1e-3, atol: 1e-3), "bias gradient")
    }

    /// Images, channels in, channels out: odd channel counts, output widths
    /// that do not fill the register tile, more than one panel, sizes that
    /// whole tiles overhang (7 x 7, 5 x 9, 14 x 14 for F(4 x 4)).
    @Test(arguments: [
        (3, 6, 10, 8, 7), (2, 28, 28, 32, 32), (1, 14, 4, 12, 40), (2, 2, 2, 64, 64), (2, 8, 12, 16, 48),
        (3, 7, 7, 16, 32), (2, 5, 9, 32, 16), (2, 14, 14, 16, 16), (1, 3, 1, 8, 5),
    ])
    func winogradMatchesTheDirectConvolution(_ shape: (Int, Int, Int, Int, Int)) {
        let (b, h, w, c, o) = shape
        let x = randomTensor([b, h, w, c], seed: 34), kernel = randomTensor([9 * c, o], seed: 35)
        let bias = randomTensor([o], seed: 37)
        let direct = Tensor.convolution3x3(x, kernel, bias: bias, algorithm: .direct)
        let winograd = Tensor.convolution3x3(x, kernel, bias: bias, algorithm: .winograd)
        #expect(winograd.shape == [b, h, w, o])
        #expect(allClose(winograd, direct, rtol: 1e-4, atol: 1e-4))
        if Convolution3x3Algorithm.winograd4x4.applies(height: h, width: w, channels: c, outputs: o) {
            let winograd4x4 = Tensor.convolution3x3(x, kernel, bias: bias, algorithm: .winograd4x4)
            #expect(allClose(winograd4x4, direct, rtol: 1e-4, atol: 1e-4), "F(4 x 4, 3 x 3)")
            let winograd7x7 = Tensor.convolution3x3(x, kernel, bias: bias, algorithm: .winograd7x7)
            #expect(closeRelativeToScale(winograd7x7, direct, tolerance: 2e-3), "F(7 x 7, 3 x 3)")
        }
        // The kernel gradient, against patches^T . gradient.
        let outputGradient = randomTensor([b, h, w, o], seed: 36)
        let viaPatches = matmul(x.patches(kernelSize: 3, padding: 1).transposed(), outputGradient.reshaped(-1, o))
        let viaWinograd = Tensor.convolution3x3KernelGradient(x, outputGradient, algorithm: .winograd)
        #expect(viaWinograd.shape == [9 * c, o])
        #expect(allClose(viaWinograd, viaPatches, rtol: 1e-3, atol: 1e-3))
        if Convolution3x3Algorithm.winograd4x4.applies(height: h, width: w, channels: c, outputs: o) {
            let viaWinograd4x4 = Tensor.convolution3x3KernelGradient(x, outputGradient, algorithm: .winograd4x4)
            #expect(allClose(viaWinograd4x4, viaPatches, rtol: 1e-3, atol: 1e-3), "F(4 x 4, 3 x 3) kernel gradient")
            let viaWinograd7x7 = Tensor.convolution3x3KernelGradient(x, outputGradient, algorithm: .winograd7x7)
            // By F(4 x 4)'s transforms: F(7 x 7) has no gradient transforms of its own.
            #expect(allClose(viaWinograd7x7, viaPatches, rtol: 1e-3, atol: 1e-3), "F(7 x 7, 3 x 3) kernel gradient")
        }
    }
}
