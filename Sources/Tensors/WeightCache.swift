import Foundation

/// Runs `body` with ``Tensor/cached(as:_:)`` keeping what it derives from
/// untracked tensors until `body` returns.
///
/// Inference calls a model thousands of times with the same weights: the
/// likelihood bound 200 times per batch, a sampler once per step. Each call
/// rearranges every layer's weight for its kernel (a permutation, Winograd's
/// transform of a convolution kernel); inside this scope each rearrangement
/// is computed once.
///
/// The scope belongs to the task that opens it and to the tasks of
/// ``Compute/runIndependently(_:_:)`` inside it, not to other threads. A
/// scope inside another shares the outer one's cache.
public func withCachedWeights<Result>(_ body: () throws -> Result) rethrows -> Result {
    if WeightCache.current != nil { return try body() }
    return try WeightCache.$current.withValue(WeightCache(), operation: body)
}

extension Tensor {
    /// `derive(self)`, remembered inside ``withCachedWeights(_:)`` when this
    /// tensor is untracked: a later call with the same `kind` on the same
    /// storage and shape returns the first result. Outside any scope, and
    /// for tracked tensors (training), it derives afresh every time.
    ///
    /// `kind` names the derivation and everything it depends on besides
    /// this tensor's values and shape (the kernel path, say).
    public func cached(as kind: String, _ derive: (Tensor) -> Tensor) -> Tensor {
        cachedValue(as: kind, derive)
    }

    /// ``cached(as:_:)`` for a value of any type.
    func cachedValue<Value>(as kind: String, _ derive: (Tensor) -> Value) -> Value {
        guard !isTracked, let cache = WeightCache.current else { return derive(self) }
        return cache.value(for: self, kind: kind, derive)
    }
}

/// The values behind ``Tensor/cached(as:_:)`` in one scope: a table from
/// (storage, shape, kind) to the derived value.
///
/// An entry holds on to the array it was derived from. While it does, the
/// array's storage can be neither freed (so its address names no other
/// array) nor changed in place (a write to a shared array copies it first),
/// so the address of the storage names the values.
final class WeightCache: @unchecked Sendable {
    /// The cache of the innermost scope on this task, if any.
    @TaskLocal static var current: WeightCache?

    /// At most this many entries: beyond it the least recently used goes.
    static let capacity = 512

    private struct Key: Hashable {
        let address: UInt
        let shape: [Int]
        let kind: String
    }

    private struct Entry {
        let source: [Float]
        let value: Any
        var lastUse: UInt64
    }

    private let lock = NSLock()
    private var entries: [Key: Entry] = [:]
    private var clock: UInt64 = 0

    /// The entries held (for tests).
    var count: Int { lock.withLock { entries.count } }

    func value<Value>(for tensor: Tensor, kind: String, _ derive: (Tensor) -> Value) -> Value {
        let source = tensor.scalars
        let address = source.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
        let key = Key(address: address, shape: tensor.shape, kind: kind)
        let found: Value? = lock.withLock {
            guard var entry = entries[key], let value = entry.value as? Value else { return nil }
            clock += 1
            entry.lastUse = clock
            entries[key] = entry
            return value
        }
        if let found { return found }
        // Derived outside the lock: two threads may both derive the same
        // value, and the second one's result replaces the first.
        let value = derive(tensor)
        lock.withLock {
            clock += 1
            entries[key] = Entry(source: source, value: value, lastUse: clock)
            if entries.count > Self.capacity, let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
                entries[oldest.key] = nil
            }
        }
        return value
    }
}
