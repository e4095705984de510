import CKernels
import Foundation

/// How the tensor library computes: the cores it uses, a convolution
/// algorithm forced for comparisons, and the allocator's tuning.
///
/// The library reads no environment variables and changes nothing in the
/// process by itself: an executable's entry point calls
/// ``Compute/configure(_:)`` (with ``ComputeConfiguration/init(environment:)``
/// to honour `D3PM_THREADS` and `D3PM_CONV3X3`) and, for long runs,
/// ``Compute/keepFreedMemory()``.
public struct ComputeConfiguration: Sendable, Equatable {
    /// Cores one operation may use.
    public var threads: Int
    /// The 3x3 convolution algorithm to use wherever it applies (`nil`: the fastest).
    public var convolution3x3: Convolution3x3Algorithm?
    /// The kernels' instruction set (`nil`: the best this processor supports).
    public var kernels: KernelPath?

    /// All online cores, at most 8, and the fastest algorithms and kernels.
    public init(
        threads: Int = ComputeConfiguration.defaultThreads, convolution3x3: Convolution3x3Algorithm? = nil,
        kernels: KernelPath? = nil
    ) {
        precondition(threads >= 1, "ComputeConfiguration: threads must be at least 1, got \(threads)")
        self.threads = threads
        self.convolution3x3 = convolution3x3
        self.kernels = kernels
    }

    /// The configuration that `D3PM_THREADS` (a positive number),
    /// `D3PM_CONV3X3` (`direct`, `winograd`, `winograd4x4`, `winograd7x7`) and
    /// `D3PM_KERNELS` (`avx512`, `avx2`, `sse2`, `neon`) ask for.
    /// - Throws: ``ConfigurationError`` naming the variable and its value.
    public init(environment: [String: String]) throws {
        self.init()
        if let text = environment["D3PM_THREADS"] {
            guard let n = Int(text), (1...256).contains(n) else {
                throw ConfigurationError(
                    description: "D3PM_THREADS must be a number of cores from 1 to 256, got '\(text)'")
            }
            threads = n
        }
        if let text = environment["D3PM_CONV3X3"] {
            guard let algorithm = Convolution3x3Algorithm(rawValue: text) else {
                throw ConfigurationError(
                    description: "D3PM_CONV3X3 must be direct, winograd, winograd4x4 or winograd7x7, got '\(text)'")
            }
            convolution3x3 = algorithm
        }
        if let text = environment["D3PM_KERNELS"] {
            guard let path = KernelPath(named: text) else {
                let names = KernelPath.all.map(\.name).joined(separator: ", ")
                throw ConfigurationError(
                    description: "D3PM_KERNELS must be one of \(names) on this processor's architecture, got '\(text)'")
            }
            guard path.isSupported else {
                throw ConfigurationError(
                    description:
                        "D3PM_KERNELS=\(text): this processor does not support \(text) (it supports \(KernelPath.supported.map(\.name).joined(separator: ", ")))"
                )
            }
            kernels = path
        }
    }

    /// Online cores, at most 8.
    public static let defaultThreads = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
}

/// A configuration value that cannot be used.
public struct ConfigurationError: Error, CustomStringConvertible {
    public let description: String
}

/// The tensor library's process-wide settings.
public enum Compute {
    nonisolated(unsafe) private static var current = ComputeConfiguration()

    /// The settings in force.
    public static var configuration: ComputeConfiguration { current }

    /// The cores each of ``runIndependently(_:_:)``'s tasks may use, on the thread running one.
    @TaskLocal static var threadsPerTask: Int?

    /// The cores one operation may use here: ``ComputeConfiguration/threads``,
    /// or inside a task of ``runIndependently(_:_:)`` the task's share of them.
    public static var threadsPerOperation: Int { threadsPerTask ?? current.threads }

    /// Runs `body(i)` for i in 0..<count as independent tasks spread over the
    /// cores, each task's operations on its share of them (one core each
    /// when there are at least as many tasks as cores): the cores never wait
    /// for each other until the end. For work that falls into independent
    /// parts of equal size (the chains of a sampler, the images of an
    /// evaluation), where splitting each operation would make the cores meet
    /// after every one. A single task runs as the caller's own code.
    ///
    /// The tasks inherit whether gradients are recorded and the scope of
    /// ``withCachedWeights(_:)``. `body` must write
    /// only to memory that its index owns.
    public static func runIndependently(_ count: Int, _ body: (Int) -> Void) {
        let cores = threadsPerOperation
        guard count > 1 && cores > 1 else {
            for index in 0..<count { body(index) }
            return
        }
        let paused = GradientRecording.isPaused, cache = WeightCache.current
        let perTask = max(1, cores / min(count, cores))
        Parallel.forEach(count) { index in
            $threadsPerTask.withValue(perTask) {
                GradientRecording.$isPaused.withValue(paused) {
                    WeightCache.$current.withValue(cache) { body(index) }
                }
            }
        }
    }

    /// Sets the library's configuration; call it before computing, not during.
    /// - Precondition: the kernel path, if any, is supported here.
    public static func configure(_ configuration: ComputeConfiguration) {
        current = configuration
        let selected = configuration.kernels.map { ck_select_kernels($0.name) } ?? ck_select_kernels(nil)
        precondition(
            selected == 0, "Compute.configure: kernel path \(configuration.kernels?.name ?? "") is not supported here")
    }

    /// The kernel path in use.
    public static var kernelPath: KernelPath { KernelPath(name: String(cString: ck_kernels_name())) }

    /// Keeps freed memory in the process instead of returning it to the
    /// system (glibc): training frees and allocates the same large
    /// activations every step, and fresh pages cost more than the matrix
    /// products (78 images/s before, 144 after, when measured). A no-op elsewhere.
    public static func keepFreedMemory() {
        ck_keep_freed_memory()
    }
}

/// The instruction set of the kernels: each is compiled in, and the best one
/// this processor supports is chosen at start-up.
public struct KernelPath: Sendable, Hashable, CustomStringConvertible {
    /// `avx512`, `avx2`, `sse2` (x86-64) or `neon` (arm64).
    public let name: String

    /// The path named `name`, if it is compiled for this architecture.
    public init?(named name: String) {
        guard KernelPath.all.contains(where: { $0.name == name }) else { return nil }
        self.name = name
    }

    fileprivate init(name: String) { self.name = name }

    /// Every path compiled for this architecture, fastest first.
    public static let all: [KernelPath] = (0..<ck_kernel_path_count()).compactMap { index in
        ck_kernel_path_name(index).map { KernelPath(name: String(cString: $0)) }
    }

    /// The paths this processor can run.
    public static var supported: [KernelPath] { all.filter(\.isSupported) }

    /// The fastest path this processor can run.
    public static var best: KernelPath { KernelPath(name: String(cString: ck_best_kernels_name())) }

    /// Whether this processor can run the path.
    public var isSupported: Bool {
        guard let index = KernelPath.all.firstIndex(of: self) else { return false }
        return ck_kernel_path_supported(index) != 0
    }

    public var description: String { name }
}
