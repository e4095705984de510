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
        }
        #expect(derivations.count == 1)
        _ = weight.cached(as: "test double", derivations.double)
        _ = weight.cached(as: "test double", derivations.double)
        #expect(derivations.count == 3, "outside any scope nothing is kept")
    }

    @Test func otherValuesAShapeOrAKindAreDerivedAfresh() {
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

    @Test func trackedTensorsAreNeverCached() {
        let weight = randomTensor([3, 4], seed: 3), derivations = Derivations()
        withCachedWeights {
            _ = gradient(at: weight) { tracked in
                (tracked.cached(as: "test double", derivations.double)
                    + tracked.cached(as: "test double", derivations.double)).sum()
            }
        }
        #expect(derivations.count == 2)
    }
}
