import Foundation
import Testing

@testable import Tensors

@Suite("Gradients match finite differences")
struct GradientTests {
    let a = randomTensor([2, 3], seed: 1)
    let b = randomTensor([3], seed: 2)
    let column = randomTensor([2, 1], seed: 3)
    let positive = randomTensor([2, 3], seed: 4, low: 0.5, high: 2)

    @Test func additionBroadcastsAndReducesBack() {
        expectGradientsMatchFiniteDifferences([a, b]) { $0[0] + $0[1] }
        expectGradientsMatchFiniteDifferences([column, b]) { $0[0] + $0[1] }
    }

    @Test func subtractionNegatesTheRightOperand() {
        expectGradientsMatchFiniteDifferences([a, b]) { $0[0] - $0[1] }
        expectGradientsMatchFiniteDifferences([column, a]) { $0[0] - $0[1] }
    }

    @Test func multiplicationUsesTheOtherOperand() {
        expectGradientsMatchFiniteDifferences([a, b]) { $0[0] * $0[1] }
        expectGradientsMatchFiniteDifferences([column, b]) { $0[0] * $0[1] }
    }

    @Test func divisionDifferentiatesBothOperands() {
        expectGradientsMatchFiniteDifferences([a, positive]) { $0[0] / $0[1] }
        expectGradientsMatchFiniteDifferences([b, positive]) { $0[0] / $0[1] }
    }

    @Test func scalarOperators() {
        expectGradientsMatchFiniteDifferences([a]) { 3 * $0[0] + 2 }
        expectGradientsMatchFiniteDifferences([a]) { 1 - $0[0] / 4 }
        expectGradientsMatchFiniteDifferences([positive]) { 2 / $0[0] - (-$0[0]) }
    }

    @Test func elementwiseFunctions() {
        expectGradientsMatchFiniteDifferences([a]) { exp($0[0]) }
        expectGradientsMatchFiniteDifferences([positive]) { log($0[0]) }
        expectGradientsMatchFiniteDifferences([positive]) { sqrt($0[0]) }
        expectGradientsMatchFiniteDifferences([a]) { sin($0[0]) }
        expectGradientsMatchFiniteDifferences([a]) { cos($0[0]) }
        expectGradientsMatchFiniteDifferences([a]) { sigmoid($0[0]) }
        expectGradientsMatchFiniteDifferences([a]) { silu($0[0]) }
        expectGradientsMatchFiniteDifferences([positive]) { abs($0[0]) }
        expectGradientsMatchFiniteDifferences([a]) { $0[0].squared() }
    }

    @Test func clampPassesGradientOnlyInsideTheRange() {
        let x = Tensor([-2, -0.5, 0.25, 0.7, 3])
        let g = gradient(at: x) { $0.clamped(min: -1, max: 1).sum() }
        #expect(g.scalars == [0, 1, 1, 1, 0])
        expectGradientsMatchFiniteDifferences([x]) { $0[0].clamped(min: -1, max: 1) }
    }

    @Test func whereRoutesGradientByMask() {
        let mask = a .> 0
        expectGradientsMatchFiniteDifferences([a, b]) { `where`(mask, $0[0], $0[1]) }
    }

    @Test func reductions() {
        let x = randomTensor([2, 3, 4], seed: 5)
        expectGradientsMatchFiniteDifferences([x]) { $0[0].sum() }
        expectGradientsMatchFiniteDifferences([x]) { $0[0].sum(axes: [0, 2]) }
        expectGradientsMatchFiniteDifferences([x]) { $0[0].sum(axis: 1, keepDims: true) }
        expectGradientsMatchFiniteDifferences([x]) { $0[0].mean(axis: -1) }
        expectGradientsMatchFiniteDifferences([x]) { $0[0].max(axis: 1) }
        expectGradientsMatchFiniteDifferences([x]) { $0[0].logSumExp(axis: -1) }
    }

    @Test func softmaxAndLogSoftmax() {
        let x = randomTensor([3, 4], seed: 6, low: -3, high: 3)
        expectGradientsMatchFiniteDifferences([x]) { softmax($0[0], axis: -1) }
        expectGradientsMatchFiniteDifferences([x]) { logSoftmax($0[0], axis: 0) }
    }

    @Test func crossEntropyOfLogits() {
        let x = randomTensor([2, 3, 4], seed: 7, low: -2, high: 2)
        let targets = IntTensor([[0, 3, 1], [2, 2, 0]])
        expectGradientsMatchFiniteDifferences([x]) { crossEntropy($0[0], targets: targets) }
    }

    @Test func batchedMatmulWithBroadcastBatch() {
        let x = randomTensor([2, 3, 4], seed: 8)
        let y = randomTensor([4, 5], seed: 9)
        let z = randomTensor([2, 4, 2], seed: 10)
        expectGradientsMatchFiniteDifferences([x, y]) { matmul($0[0], $0[1]) }
        expectGradientsMatchFiniteDifferences([x, z]) { matmul($0[0], $0[1]) }
    }

    @Test func vecmatContractsTheLastAxis() {
        let p = randomTensor([2, 3, 2, 4], seed: 11)
        let q = randomTensor([2, 4, 4], seed: 12)
        expectGradientsMatchFiniteDifferences([p, q]) { vecmat($0[0], $0[1]) }
    }

    @Test func reshapingAndPermuting() {
        let x = randomTensor([2, 3, 4], seed: 13)
        expectGradientsMatchFiniteDifferences([x]) { $0[0].reshaped(4, -1) }
        expectGradientsMatchFiniteDifferences([x]) { $0[0].permuted(2, 0, 1) }
        expectGradientsMatchFiniteDifferences([x]) { $0[0].transposed() }
        expectGradientsMatchFiniteDifferences([x]) { $0[0].slice(axis: 1, 1..<3) }
        expectGradientsMatchFiniteDifferences([x]) { $0[0][1] }
        expectGradientsMatchFiniteDifferences([x]) { $0[0].expandingShape(at: 1).broadcast(to: [2, 5, 3, 4]) }
    }

    @Test func stackAndConcat() {
        let x = randomTensor([2, 3], seed: 14), y = randomTensor([2, 3], seed: 15), z = randomTensor([2, 1], seed: 16)
        expectGradientsMatchFiniteDifferences([x, y]) { stack([$0[0], $0[1]], axis: 1) }
        expectGradientsMatchFiniteDifferences([x, z]) { concat([$0[0], $0[1]], axis: 1) }
    }

    @Test func advancedIndexingScattersGradientBack() {
        let table = randomTensor([3, 4, 4], seed: 17)
        let t = IntTensor([2, 0]).reshaped(2, 1, 1)
        let x = IntTensor(shape: [2, 2, 3], scalars: [0, 1, 3, 3, 3, 2, 1, 1, 0, 2, 3, 0])
        expectGradientsMatchFiniteDifferences([table]) { $0[0][t, x] }
    }

    @Test func gatherAlongAnAxis() {
        let x = randomTensor([2, 4], seed: 18)
        let index = IntTensor([[3, 3, 0], [1, 2, 1]])
        expectGradientsMatchFiniteDifferences([x]) { $0[0].gather(axis: 1, index: index) }
    }

    @Test func gradientOfAModelReachesEveryParameter() {
        struct Affine: ParameterContainer {
            var weight: Tensor
            var bias: Tensor
            mutating func visitParameters(_ body: (String, inout Tensor) -> Void) {
                body("weight", &weight)
                body("bias", &bias)
            }
        }
        let model = Affine(weight: randomTensor([3, 2], seed: 19), bias: randomTensor([2], seed: 20))
        let x = randomTensor([4, 3], seed: 21)
        let (_, grad) = valueWithGradient(at: model) { m in (matmul(x, m.weight) + m.bias).squared().sum() }
        let (_, expected) = valueWithGradient(at: [model.weight, model.bias]) { p in
            (matmul(x, p[0]) + p[1]).squared().sum()
        }
        #expect(allClose(grad.weight, expected[0]) && allClose(grad.bias, expected[1]))
        #expect(model.namedParameters.map(\.name) == ["weight", "bias"])
    }

    @Test func detachedTensorsStopTheGradient() {
        let x = Tensor([1, 2, 3])
        let g = gradient(at: x) { x in (x * x.detached()).sum() }
        #expect(g.scalars == [1, 2, 3])
    }

    @Test func gradientAccumulatesOverRepeatedUse() {
        let x = Tensor([0.5, -1.5])
        let g = gradient(at: x) { x in (x * x * x + x).sum() }
        #expect(allClose(g, 3 * x * x + 1))
    }

    /// A graph is as deep as the chain of operations that made it; freeing it
    /// must not take a stack frame per node, or a long chain overflows a
    /// worker thread's stack (512 KB on macOS's dispatch threads).
    @Test func aLongChainOfOperationsIsFreedOnASmallStack() {
        let links = 200_000
        final class Result: @unchecked Sendable { var gradient: Float = .nan }  // written before `done` signals
        let result = Result()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            let g = gradient(at: Tensor([1])) { x in
                var y = x
                for _ in 0..<links { y = y * 1 }
                return y.sum()
            }
            result.gradient = g.scalars[0]
            done.signal()
        }
        thread.stackSize = 512 * 1024
        thread.start()
        done.wait()
        #expect(result.gradient == 1)
    }
}
