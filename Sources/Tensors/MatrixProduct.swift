import CKernels
import Dispatch

#if canImport(Accelerate)
    import Accelerate
#endif

/// The matrix-product kernel behind ``matmul(_:_:)`` and the layers.
///
/// Design notes. On macOS the product goes to Accelerate's `cblas_sgemm`.
/// On Linux it goes to the kit's own packed kernel (`CKernels/sgemm.c`,
/// compiled with -O3 for each instruction set, even in debug builds) rather than to
/// OpenBLAS: Debian's OpenBLAS 0.3.21 misdetects recent Intel CPUs and falls
/// back to SSE3 kernels (18-27 GFLOP/s against 59-85 with the right core
/// type), and it would add a system dependency to every student's build.
/// `swift run -c release bench matmul` measures this kernel, and OpenBLAS
/// beside it where the library is installed.
///
/// Large products are split by rows over the available cores.
public enum MatrixProduct {
    /// Cores used for one product: ``Compute/threadsPerOperation``.
    public static var threadCount: Int { Compute.threadsPerOperation }

    /// C = alpha * op(A) op(B) + beta * C on row-major buffers (see `ck_sgemm`).
    public static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int = threadCount
    ) {
        let work = Double(m) * Double(n) * Double(k)
        if work > 4e6 && m < 2 * 96 && k >= reductionParts * 1024 {
            splittingReduction(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads: threads)
            return
        }
        let threads = work > 4e6 && m >= 2 * 96 ? threads : 1
        if threads == 1 {
            kernel(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            return
        }
        let rowsPerThread = (m + threads - 1) / threads
        let aAddress = UInt(bitPattern: a), bAddress = UInt(bitPattern: b), cAddress = UInt(bitPattern: c)
        DispatchQueue.concurrentPerform(iterations: threads) { part in
            let start = part * rowsPerThread
            let rows = min(rowsPerThread, m - start)
            guard rows > 0 else { return }
            let a = UnsafePointer<Float>(bitPattern: aAddress)!
            let aSlab = transA ? a + start : a + start * lda
            let cSlab = UnsafeMutablePointer<Float>(bitPattern: cAddress)! + start * ldc
            kernel(
                transA, transB, rows, n, k, alpha, aSlab, lda, UnsafePointer<Float>(bitPattern: bAddress)!, ldb, beta,
                cSlab, ldc)
        }
    }

    /// The parts a long reduction is cut into when the rows are too few to
    /// share: fixed, so that the result does not depend on the thread count.
    static let reductionParts = 4

    /// A product with few rows and a long reduction (the kernel gradient of
    /// a convolution or a layer: m = channels, k = pixels of the batch),
    /// which splitting rows cannot share between cores: k is cut into
    /// ``reductionParts`` parts, computed side by side, and their products
    /// added in a fixed order.
    static func splittingReduction(
        _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
        _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
        _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, threads: Int
    ) {
        let parts = reductionParts, perPart = (k + parts - 1) / parts
        var partial = [Float](repeating: 0, count: (parts - 1) * m * n)
        let aAddress = UInt(bitPattern: a), bAddress = UInt(bitPattern: b), cAddress = UInt(bitPattern: c)
        partial.withUnsafeMutableBufferPointer { partial in
            let pAddress = UInt(bitPattern: partial.baseAddress)
            let run: @Sendable (Int) -> Void = { part in
                let start = part * perPart, length = min(perPart, k - start)
                let a = UnsafePointer<Float>(bitPattern: aAddress)!, b = UnsafePointer<Float>(bitPattern: bAddress)!
                let aPart = transA ? a + start * lda : a + start
                let bPart = transB ? b + start : b + start * ldb
                if part == 0 {
                    kernel(
                        transA, transB, m, n, length, alpha, aPart, lda, bPart, ldb, beta,
                        UnsafeMutablePointer<Float>(bitPattern: cAddress)!, ldc)
                } else {
                    let out = UnsafeMutablePointer<Float>(bitPattern: pAddress)! + (part - 1) * m * n
                    kernel(transA, transB, m, n, length, alpha, aPart, lda, bPart, ldb, 0, out, n)
                }
            }
            if threads > 1 {
                DispatchQueue.concurrentPerform(iterations: parts, execute: run)
            } else {
                for part in 0..<parts { run(part) }
            }
            for part in 1..<parts {
                let source = partial.baseAddress! + (part - 1) * m * n
                for row in 0..<m {
                    let target = c + row * ldc
                    for column in 0..<n { target[column] += source[row * n + column] }
                }
            }
        }
    }

    @inline(__always)
    static func kernel(
        _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
        _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
        _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        #if canImport(Accelerate)
            cblas_sgemm(
                CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        #else
            ck_sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        #endif
    }
}

/// Batched product of op(a) [..., M, K] and op(b) [..., K, N] with the batch
/// axes broadcast (untracked).
func batchedProduct(_ a: Tensor, transA: Bool, _ b: Tensor, transB: Bool, op: String) -> Tensor {
    ensure(
        a.rank >= 2 && b.rank >= 2, "\(op): needs two tensors of rank 2 or more, got shapes \(a.shape) and \(b.shape)")
    let (ar, ac) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
    let (br, bc) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
    let (m, k) = transA ? (ac, ar) : (ar, ac)
    let (kb, n) = transB ? (bc, br) : (br, bc)
    ensure(k == kb, "\(op): inner sizes differ, shapes \(a.shape) and \(b.shape)")
    let aBatch = Array(a.shape.dropLast(2)), bBatch = Array(b.shape.dropLast(2))
    guard let batch = Shape.broadcast(aBatch, bBatch) else {
        fatalError("\(op): batch axes of shapes \(a.shape) and \(b.shape) cannot be broadcast together")
    }
    let batchCount = batch.reduce(1, *)
    // The kernel writes every element when beta == 0 (k == 0 included), so no zero-fill.
    let out = [Float](unsafeUninitializedCapacity: batchCount * m * n) { buffer, initialized in
        initialized = buffer.count
        a.scalars.withUnsafeBufferPointer { pa in
            b.scalars.withUnsafeBufferPointer { pb in
                let pc = buffer
                guard let baseA = pa.baseAddress, let baseB = pb.baseAddress, let baseC = pc.baseAddress, m > 0, n > 0
                else { return }
                // One big product when b is shared and a's batch folds into its rows.
                if bBatch.reduce(1, *) == 1 && !transA {
                    MatrixProduct.sgemm(
                        transA: false, transB: transB, m: batchCount * m, n: n, k: k,
                        a: baseA, lda: ac, b: baseB, ldb: bc, c: baseC, ldc: n)
                    return
                }
                let sa = Shape.broadcastStrides(aBatch, to: batch), sb = Shape.broadcastStrides(bBatch, to: batch)
                forEachOffset(shape: batch, stridesA: sa, stridesB: sb) { o, ia, ib in
                    MatrixProduct.sgemm(
                        transA: transA, transB: transB, m: m, n: n, k: k,
                        a: baseA + ia * ar * ac, lda: ac, b: baseB + ib * br * bc, ldb: bc,
                        c: baseC + o * m * n, ldc: n)
                }
            }
        }
    }
    return Tensor(shape: batch + [m, n], scalars: out)
}

/// The matrix product of the last two axes, batched over the others with
/// broadcasting (PyTorch's `a @ b`): [..., M, K] x [..., K, N] -> [..., M, N].
public func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
    var result = batchedProduct(a, transA: false, b, transB: false, op: "matmul")
    result.recordGradient("matmul", inputs: [a, b]) { g in
        // No product for an operand that needs no gradient (the patches of input images, say).
        [
            a.isTracked
                ? batchedProduct(g, transA: false, b, transB: true, op: "matmul backward").reduced(toShape: a.shape)
                : nil,
            b.isTracked
                ? batchedProduct(a, transA: true, g, transB: false, op: "matmul backward").reduced(toShape: b.shape)
                : nil,
        ]
    }
    return result
}

/// Each vector along the last axis of `vectors[b]` times the matrix
/// `matrices[b]`: einsum `"b...k,bkd->b...d"`.
///
/// With `p` of shape [B, H, W, K] (a distribution per pixel) and `q` of
/// shape [B, K, K] (one transition matrix per batch element), `vecmat(p, q)`
/// is the distribution one step later, of shape [B, H, W, K].
public func vecmat(_ vectors: Tensor, _ matrices: Tensor) -> Tensor {
    ensure(
        vectors.rank >= 2 && matrices.rank == 3 && vectors.shape[0] == matrices.shape[0]
            && vectors.shape[vectors.rank - 1] == matrices.shape[1],
        "vecmat: expected shapes [B, ..., K] and [B, K, D], got \(vectors.shape) and \(matrices.shape)")
    let b = vectors.shape[0], k = matrices.shape[1], d = matrices.shape[2]
    let rows = vectors.reshaped([b, -1, k])
    return matmul(rows, matrices).reshaped(Array(vectors.shape.dropLast()) + [d])
}
