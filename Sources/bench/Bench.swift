import ArgumentParser
import Foundation
import Tensors

#if canImport(Glibc)
    import Glibc
#endif

/// Release-build benchmarks of the tensor library:
/// `swift run -c release bench` (or `bench matmul`, `bench elementwise`).
@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure the tensor library (build with -c release).",
        subcommands: [MatrixProducts.self, Convolutions.self, Elementwise.self, TrainingSpeed.self, All.self],
        defaultSubcommand: All.self
    )

    /// Configures the tensor library from the environment, then runs the command.
    static func main() {
        do {
            Compute.configure(try ComputeConfiguration(environment: ProcessInfo.processInfo.environment))
        } catch {
            exit(withError: ValidationError("\(error)"))
        }
        Compute.keepFreedMemory()
        main(nil)
    }
}

/// Runs `body` `repeats` times after one warm-up and returns the best time in seconds.
func bestTime(repeats: Int, _ body: () -> Void) -> Double {
    body()
    var best = Double.infinity
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return best
}

struct MatrixProducts: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matmul", abstract: "GFLOP/s of the matrix product at im2col shapes.")

    @Option(help: "Timed repetitions per shape (the best counts).")
    var repeats = 3

    /// (name, transA, transB, M, N, K): the products of a 3x3 convolution of
    /// batch 128 on 28x28 and 14x14 maps, forward and backward, and of the
    /// practical model's transposed convolution and last 1x1 convolution.
    static let shapes: [(String, Bool, Bool, Int, Int, Int)] = [
        ("conv 1->32 fwd   (100352x9)·(9x32)", false, false, 100_352, 32, 9),
        ("conv 32->32 fwd  (100352x288)·(288x32)", false, false, 100_352, 32, 288),
        ("conv 32->32 dW   (288x100352)·(100352x32)", true, false, 288, 32, 100_352),
        ("conv 32->32 dX   (100352x32)·(32x288)", false, true, 100_352, 288, 32),
        ("conv 32->64 fwd  (25088x288)·(288x64)", false, false, 25_088, 64, 288),
        ("conv 64->64 fwd  (25088x576)·(576x64)", false, false, 25_088, 64, 576),
        ("up 64->32 fwd    (25088x64)·(64x128)", false, false, 25_088, 128, 64),
        ("up 64->32 dX     (25088x128)·(128x64)^T", false, true, 25_088, 64, 128),
        ("up 64->32 dW     (64x25088)·(25088x128)", true, false, 64, 128, 25_088),
        ("1x1 32->4 dX     (100352x4)·(32x4)^T", false, true, 100_352, 32, 4),
        ("1x1 32->4 dW     (32x100352)·(100352x4)", true, false, 32, 4, 100_352),
        ("unet qkv fwd     (3136x128)·(128x384)", false, false, 3136, 384, 128),
        ("unet qkv dX      (3136x384)·(128x384)^T", false, true, 3136, 128, 384),
        ("unet qkv dW      (128x3136)·(3136x384)", true, false, 128, 384, 3136),
        ("unet up3 dW      (128x3136)·(3136x256)", true, false, 128, 256, 3136),
        ("unet up2 dW      (64x12544)·(12544x128)", true, false, 64, 128, 12544),
        ("unet scores      (49x32)·(49x32)^T", false, true, 49, 49, 32),
        ("unet scores dQ   (49x49)·(49x32)", false, false, 49, 32, 49),
        ("unet scores dK   (49x49)^T·(49x32)", true, false, 49, 32, 49),
        ("square           (1024x1024)·(1024x1024)", false, false, 1024, 1024, 1024),
    ]

    func run() throws {
        let openBLAS = OpenBLAS.load()
        MachineReport().print()
        print("Matrix product, GFLOP/s (best of \(repeats)); cores used by 'threads': \(MatrixProduct.threadCount)")
        var header = "shape".padding(toLength: 44, withPad: " ", startingAt: 0) + "  kit 1 thread  kit threads"
        if openBLAS != nil { header += "  OpenBLAS 1 thread" }
        print(header)
        for (name, transA, transB, m, n, k) in Self.shapes {
            var rng = RandomGenerator(seed: 1)
            let a = Tensor.uniform([m * k], using: &rng).scalars, b = Tensor.uniform([k * n], using: &rng).scalars
            var c = [Float](repeating: 0, count: m * n)
            let lda = transA ? m : k, ldb = transB ? k : n
            let flops = 2 * Double(m) * Double(n) * Double(k)
            func kit(_ threads: Int) -> Double {
                let seconds = bestTime(repeats: repeats) {
                    a.withUnsafeBufferPointer { pa in
                        b.withUnsafeBufferPointer { pb in
                            c.withUnsafeMutableBufferPointer { pc in
                                MatrixProduct.sgemm(
                                    transA: transA, transB: transB, m: m, n: n, k: k, a: pa.baseAddress!, lda: lda,
                                    b: pb.baseAddress!, ldb: ldb, c: pc.baseAddress!, ldc: n, threads: threads)
                            }
                        }
                    }
                }
                return flops / seconds / 1e9
            }
            var line = name.padding(toLength: 44, withPad: " ", startingAt: 0)
            line += String(format: "  %12.1f  %11.1f", kit(1), kit(MatrixProduct.threadCount))
            if let openBLAS {
                let seconds = bestTime(repeats: repeats) {
                    a.withUnsafeBufferPointer { pa in
                        b.withUnsafeBufferPointer { pb in
                            c.withUnsafeMutableBufferPointer { pc in
                                openBLAS.sgemm(
                                    transA, transB, m, n, k, pa.baseAddress!, lda, pb.baseAddress!, ldb,
                                    pc.baseAddress!, n)
                            }
                        }
                    }
                }
                line += String(format: "  %17.1f", flops / seconds / 1e9)
            }
            print(line)
        }
        if openBLAS == nil { print("(OpenBLAS not found: install libopenblas0 to compare)") }
    }
}

struct Convolutions: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conv",
        abstract:
            "Milliseconds per 3x3 convolution of the models' shapes, forward and forward + kernel gradient: direct (implicit GEMM) against Winograd's F(2x2, 3x3), F(4x4, 3x3) and F(7x7, 3x3)."
    )

    @Option(help: "Timed repetitions per shape (the best counts).")
    var repeats = 3

    /// (batch, height, width, channels in, channels out).
    static let shapes: [(Int, Int, Int, Int, Int)] = [
        (128, 28, 28, 32, 32), (128, 14, 14, 32, 64), (128, 14, 14, 64, 64), (128, 14, 14, 64, 32),
        (16, 28, 28, 32, 32), (16, 14, 14, 64, 64), (128, 7, 7, 64, 128), (128, 7, 7, 128, 128),
    ]

    func run() throws {
        MachineReport().print()
        let algorithms = Convolution3x3Algorithm.allCases
        print(
            "3x3 convolution, ms (GFLOP/s counted as direct multiply-adds), best of \(repeats), \(MatrixProduct.threadCount) threads"
        )
        print(
            "shape [B, H, W, C] -> O       "
                + algorithms.map { $0.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0) }.joined())
        for (b, h, w, c, o) in Self.shapes {
            var rng = RandomGenerator(seed: 2)
            let x = Tensor.normal([b, h, w, c], using: &rng), kernel = Tensor.normal([9 * c, o], using: &rng)
            let gradient = Tensor.normal([b, h, w, o], using: &rng)
            let flops = 2.0 * Double(b * h * w * o * 9 * c)
            func row(_ name: String, work: Double, _ body: (Convolution3x3Algorithm) -> Void) {
                var line = name.padding(toLength: 30, withPad: " ", startingAt: 0)
                for algorithm in algorithms {
                    guard algorithm.applies(height: h, width: w, channels: c, outputs: o) else {
                        line += "      -           "
                        continue
                    }
                    let seconds = bestTime(repeats: repeats) { body(algorithm) }
                    line += String(format: "%7.2f (%4.0f)  ", seconds * 1e3, work / seconds / 1e9)
                }
                print(line)
            }
            row("[\(b), \(h), \(w), \(c)] -> \(o)", work: flops) { algorithm in
                _ = withoutGradient { x.convolved3x3(with: kernel, algorithm: algorithm) }
            }
            // The kernel gradient: patches^T . gradient for direct, else by the algorithm's transforms
            // (F(4 x 4)'s for F(7 x 7), which has none of its own).
            row("  + kernel gradient", work: 2 * flops) { algorithm in
                _ = valueWithGradient(at: kernel) {
                    (withoutGradient { x }.convolved3x3(with: $0, algorithm: algorithm) * gradient).sum()
                }
            }
        }
    }
}

/// OpenBLAS loaded at run time, for comparison only (the kit does not link it).
struct OpenBLAS {
    typealias SGEMM =
        @convention(c) (
            Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>, Int32,
            UnsafePointer<Float>, Int32, Float, UnsafeMutablePointer<Float>, Int32
        ) -> Void
    typealias SetThreads = @convention(c) (Int32) -> Void
    let function: SGEMM

    static func load() -> OpenBLAS? {
        #if os(Linux)
            for name in ["libopenblas.so.0", "libopenblas.so"] {
                guard let handle = dlopen(name, RTLD_NOW), let symbol = dlsym(handle, "cblas_sgemm") else { continue }
                if let threads = dlsym(handle, "openblas_set_num_threads") {
                    unsafeBitCast(threads, to: SetThreads.self)(1)
                }
                return OpenBLAS(function: unsafeBitCast(symbol, to: SGEMM.self))
            }
        #endif
        return nil
    }

    func sgemm(
        _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Float>, _ lda: Int,
        _ b: UnsafePointer<Float>, _ ldb: Int, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        // CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112.
        function(
            101, transA ? 112 : 111, transB ? 112 : 111, Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb),
            0, c, Int32(ldc))
    }
}

struct Elementwise: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Elements per second of elementwise ops, softmax, logSoftmax and argmax on [128, 1, 28, 28, 4].")

    @Option(help: "Timed repetitions per operation (the best counts).")
    var repeats = 5

    func run() throws {
        var rng = RandomGenerator(seed: 2)
        let shape = [128, 1, 28, 28, 4]
        let x = Tensor.normal(shape, using: &rng), y = Tensor.normal(shape, using: &rng)
        let column = Tensor.normal([128, 1, 28, 28, 1], using: &rng)
        let positive = exp(x)
        let operations: [(String, () -> Tensor)] = [
            ("x + y", { x + y }),
            ("x * y", { x * y }),
            ("x + column (broadcast)", { x + column }),
            ("x * 2 + 1", { x * 2 + 1 }),
            ("exp(x)", { exp(x) }),
            ("log(x)", { log(positive) }),
            ("sum(axis: -1)", { x.sum(axis: -1) }),
            ("softmax(axis: -1)", { softmax(x, axis: -1) }),
            ("logSoftmax(axis: -1)", { logSoftmax(x, axis: -1) }),
            ("argmax(axis: -1)", { Tensor([Float(x.argmax(axis: -1).scalars[0])]) }),
        ]
        print("Elementwise on \(shape) (\(x.count) elements), best of \(repeats)")
        for (name, operation) in operations {
            var sink: Float = 0
            let seconds = bestTime(repeats: repeats) { sink += operation().scalars[0] }
            print(
                name.padding(toLength: 26, withPad: " ", startingAt: 0)
                    + String(format: "%8.2f ms  %8.1f M elements/s", seconds * 1e3, Double(x.count) / seconds / 1e6))
            _ = sink
        }
    }
}

struct All: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Every benchmark.")
    func run() throws {
        try MatrixProducts.parse([]).run()
        print("")
        try Elementwise.parse([]).run()
    }
}
