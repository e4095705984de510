import Testing

@testable import Tensors

@Suite struct WeightCacheTests {
    /// Counts the derivations behind ``Tensor/cached(as:_:)``.
    final class Derivations: @unchecked Sendable {
        var count = 0
        func double(_ tensor: Tensor) -> Tensor {
            count += 1
            return tensor * 2
        }
    }

    @Test func aDerivationRunsOnceInsideTheScopeAndEveryTimeOutsideIt() {
        let weight = randomTensor([3, 4], seed: 1), derivations = Derivations()
        withCachedWeights {
            for _ in 0..<3 {
                #expect(weight.cached(as: "test double", derivations.double).scalars == (weight * 2).scalars)
            }
            withCachedWeights {
                _ = weight.cached(as: "test double", derivations.double)
            }
        }
        #expect(derivations.count == 1, "an inner scope shares the outer one's cache")
        _ = weight.cached(as: "test double", derivations.double)
        _ = weight.cached(as: "test double", derivations.double)
        #expect(derivations.count == 3, "outside any scope nothing is kept")
    }

    @Test func otherStorageAShapeOrAKindAreDerivedAfresh() {
        var weight = randomTensor([3, 4], seed: 2)
        let derivations = Derivations()
        withCachedWeights {
            _ = weight.cached(as: "test double", derivations.double)
            _ = weight.reshaped(4, 3).cached(as: "test double", derivations.double)
            _ = weight.cached(as: "test double, another kind", derivations.double)
            #expect(derivations.count == 3)
            // A write to the weight copies the storage the cache holds on to.
            weight.scalars[0] += 1
            #expect(weight.cached(as: "test double", derivations.double).scalars == (weight * 2).scalars)
            #expect(derivations.count == 4)
        }
    }

    @Test func theTasksOfAScopeShareItsCache() {
        let weight = randomTensor([3, 4], seed: 4), derivations = Derivations()
        withCachedWeights {
            _ = weight.cached(as: "test double", derivations.double)
            Compute.runIndependently(4) { _ in _ = weight.cached(as: "test double", derivations.double) }
        }
        #expect(derivations.count == 1)
    }

    @Test func trainingCachesNothing() {
        // A tracked weight, and a convolution's kernel that is tracked
        // (whose Winograd transform would otherwise be kept).
        let weight = randomTensor([3, 4], seed: 3), derivations = Derivations()
        let images = randomTensor([2, 8, 8, 16], seed: 5), kernel = randomTensor([9 * 16, 16], seed: 6)
        withCachedWeights {
            _ = gradient(at: weight) { tracked in
                (tracked.cached(as: "test double", derivations.double)
                    + tracked.cached(as: "test double", derivations.double)).sum()
            }
            _ = gradient(at: kernel) { images.convolved3x3(with: $0, algorithm: .winograd4x4).sum() }
            #expect(WeightCache.current?.count == 0)
        }
        #expect(derivations.count == 2)
    }
}
