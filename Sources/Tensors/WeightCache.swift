import Foundation

/// Runs `body` with ``Tensor/cached(as:_:)`` keeping what it derives from
/// untracked tensors until the last such scope ends.
///
/// Inference calls a model thousands of times with the same weights: the
/// likelihood bound 200 times per batch, a sampler once per step. Each call
/// rearranges every layer's weight for its kernel (a permutation, Winograd's
/// transform of a convolution kernel); inside this scope each rearrangement
/// is computed once. Outside any scope, and for tracked tensors (training),
/// ``Tensor/cached(as:_:)`` derives afresh every time.
public func withCachedWeights<Result>(_ body: () throws -> Result) rethrows -> Result {
    WeightCache.shared.open()
    defer { WeightCache.shared.close() }
    return try body()
}

extension Tensor {
    /// `derive(self)`, remembered inside ``withCachedWeights(_:)`` when this
    /// tensor is untracked: a later call with the same `kind` on the same
    /// values returns the first result.
    ///
    /// `kind` names the derivation and everything it depends on besides
    /// this tensor's values and shape (the kernel path, say).
    public func cached(as kind: String, _ derive: (Tensor) -> Tensor) -> Tensor {
        guard !isTracked, WeightCache.shared.isOpen else { return derive(self) }
        return WeightCache.shared.value(for: self, kind: kind, derive)
    }
}

/// The values behind ``Tensor/cached(as:_:)``: a table from (storage,
/// shape, kind) to the derived tensor, kept while a scope is open.
///
/// An entry holds on to the array it was derived from. While it does, the
/// array's storage can be neither freed (so its address names no other
/// array) nor changed in place (a write to a shared array copies it first),
/// so the address of the storage names the values.
final class WeightCache: @unchecked Sendable {
    static let shared = WeightCache()

    /// At most this many entries: beyond it the least recently used goes.
    static let capacity = 512

    private struct Key: Hashable {
        let address: UInt
        let shape: [Int]
        let kind: String
    }

    private struct Entry {
        let source: [Float]
        let value: Tensor
        var lastUse: UInt64
    }

    private let lock = NSLock()
    private var scopes = 0
    private var entries: [Key: Entry] = [:]
    private var clock: UInt64 = 0

    var isOpen: Bool { lock.withLock { scopes > 0 } }

    func open() { lock.withLock { scopes += 1 } }

    func close() {
        lock.withLock {
            scopes -= 1
            if scopes == 0 { entries.removeAll() }
        }
    }

    func value(for tensor: Tensor, kind: String, _ derive: (Tensor) -> Tensor) -> Tensor {
        let source = tensor.scalars
        let address = source.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
        let key = Key(address: address, shape: tensor.shape, kind: kind)
        let found: Tensor? = lock.withLock {
            clock += 1
            entries[key]?.lastUse = clock
            return entries[key]?.value
        }
        if let found { return found }
        // Derived outside the lock: two threads may both derive the same
        // value, and the second one's result replaces the first.
        let value = derive(tensor)
        lock.withLock {
            guard scopes > 0 else { return }
            clock += 1
            entries[key] = Entry(source: source, value: value, lastUse: clock)
            if entries.count > Self.capacity, let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
                entries[oldest.key] = nil
            }
        }
        return value
    }
}
