import Dispatch

/// Work split over the cores.
enum Parallel {
    /// Calls `body` on contiguous ranges covering 0..<count, one per thread
    /// when the work is large enough to be worth it: at least
    /// `minimumPerThread` elements per thread, an item being
    /// `elementsPerItem` elements (a row of an image, say).
    static func ranges(
        _ count: Int, elementsPerItem: Int = 1, minimumPerThread: Int = 1 << 15, _ body: (Range<Int>) -> Void
    ) {
        let threads = max(1, min(MatrixProduct.threadCount, count * elementsPerItem / minimumPerThread))
        if threads == 1 {
            if count > 0 { body(0..<count) }
            return
        }
        let chunk = (count + threads - 1) / threads
        forEach(threads) { part in
            let range = (part * chunk)..<min((part + 1) * chunk, count)
            if !range.isEmpty { body(range) }
        }
    }

    /// How many blocks ``forEachBlock(of:_:)`` splits `count` items into: one per thread.
    static func blockCount(of count: Int) -> Int { max(1, min(MatrixProduct.threadCount, count)) }

    /// Calls `body(block, first, count)` once per contiguous block of the
    /// items 0..<count, one block per thread (images split over the cores,
    /// each thread's share handed to a C kernel at once).
    static func forEachBlock(of count: Int, _ body: (_ block: Int, _ first: Int, _ count: Int) -> Void) {
        let blocks = blockCount(of: count)
        let perBlock = (count + blocks - 1) / blocks
        forEach(blocks) { block in
            let first = block * perBlock
            if first < count { body(block, first, min(perBlock, count - first)) }
        }
    }

    /// Calls `body(i)` for i in 0..<count, spread over ``MatrixProduct/threadCount`` threads.
    static func forEach(_ count: Int, _ body: (Int) -> Void) {
        let threads = min(MatrixProduct.threadCount, count)
        if threads <= 1 {
            for i in 0..<count { body(i) }
            return
        }
        withoutActuallyEscaping(body) { body in
            // The callers hand each index disjoint memory to write.
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: threads) { part in
                var i = part
                while i < count {
                    body(i)
                    i += threads
                }
            }
        }
    }
}
