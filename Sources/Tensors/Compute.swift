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

    /// All online cores, at most 8, and the fastest algorithms.
    public init(threads: Int = ComputeConfiguration.defaultThreads, convolution3x3: Convolution3x3Algorithm? = nil) {
        precondition(threads >= 1, "ComputeConfiguration: threads must be at least 1, got \(threads)")
        self.threads = threads
        self.convolution3x3 = convolution3x3
    }

    /// The configuration that `D3PM_THREADS` (a positive number) and
    /// `D3PM_CONV3X3` (`direct`, `winograd`, `winograd4x4`) ask for.
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
                    description: "D3PM_CONV3X3 must be direct, winograd or winograd4x4, got '\(text)'")
            }
            convolution3x3 = algorithm
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

    /// Sets the library's configuration; call it before computing.
    public static func configure(_ configuration: ComputeConfiguration) {
        current = configuration
    }

    /// Keeps freed memory in the process instead of returning it to the
    /// system (glibc): training frees and allocates the same large
    /// activations every step, and fresh pages cost more than the matrix
    /// products (78 images/s before, 144 after, when measured). A no-op elsewhere.
    public static func keepFreedMemory() {
        ck_keep_freed_memory()
    }
}
