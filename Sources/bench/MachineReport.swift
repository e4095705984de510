import CKernels
import Foundation
import Tensors

/// Where a benchmark stands: the processor, the kernel path, the threads,
/// and the machine's peak of fused multiply-adds, with how it was derived.
struct MachineReport {
    let processor: String
    /// The clock at which the cores ran the multiply-add chains, all at once.
    let clockGHz: Double
    let clockSource: String
    let threads: Int
    let path: KernelPath
    let vectorWidth: Int
    /// Full-width FMAs a core starts per cycle, and why.
    let fmaUnits: Int
    let fmaSource: String

    init() {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        func field(_ name: String) -> String? {
            cpuinfo.split(separator: "\n").first { $0.hasPrefix(name) }.flatMap {
                $0.split(separator: ":", maxSplits: 1).last
            }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        }
        processor = field("model name") ?? Self.sysctl("machdep.cpu.brand_string") ?? "unknown processor"
        threads = MatrixProduct.threadCount
        path = Compute.kernelPath
        vectorWidth = ck_vector_width()
        // AMD's Zen 4 (family 25, 0x19) runs a 512-bit FMA as two halves on its two 256-bit units.
        let zen4 = field("vendor_id") == "AuthenticAMD" && field("cpu family") == "25"
        if zen4 && vectorWidth == 16 {
            fmaUnits = 1
            fmaSource = "Zen 4 splits each 512-bit FMA over its two 256-bit units"
        } else {
            fmaUnits = 2
            fmaSource = "assumed: two on the x86-64 and arm64 server cores of this decade"
        }
        let stepsPerSecond = Self.multiplyAddSteps(threads: threads)
        clockGHz = stepsPerSecond / Double(fmaUnits) / 1e9
        let nominal = field("cpu MHz").flatMap(Double.init).map { String(format: "%.2f GHz", $0 / 1000) }
        clockSource =
            "measured: 12 chains of vector multiply-adds on each core at once; "
            + (nominal.map { "cpu MHz in /proc/cpuinfo says \($0)" } ?? "no nominal clock reported here")
    }

    /// Vector multiply-adds a core completes per second while every one of
    /// `threads` cores runs them (a core may run faster alone): the best of
    /// three rounds of about 20 ms, the slowest core's rate in each.
    private static func multiplyAddSteps(threads: Int) -> Double {
        let steps = 4_000_000
        var best = 0.0
        for _ in 0..<3 {
            let rates = UnsafeMutableBufferPointer<Double>.allocate(capacity: threads)
            defer { rates.deallocate() }
            let address = UInt(bitPattern: rates.baseAddress)
            DispatchQueue.concurrentPerform(iterations: threads) { core in
                let start = DispatchTime.now().uptimeNanoseconds
                let value = ck_multiply_add_chains(steps)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                // 12 chains a step; the value keeps the work from being optimised away.
                UnsafeMutablePointer<Double>(bitPattern: address)![core] =
                    value.isNaN ? 0 : 12 * Double(steps) / max(seconds, 1e-9)
            }
            best = max(best, rates.min() ?? 0)
        }
        return best
    }

    /// The peak in GFLOP/s of `threads` cores: cores x floats per vector x FMA units x 2 x clock.
    var peakGFLOPs: Double { Double(threads * vectorWidth * fmaUnits * 2) * clockGHz }

    var lines: [String] {
        var text = [
            "processor: \(processor); kernels: \(path) (\(vectorWidth) floats a vector; supported here: \(KernelPath.supported.map(\.name).joined(separator: ", "))); threads: \(threads)"
        ]
        text.append(
            String(
                format: "peak: %d cores x %d floats x %d FMA units (%@) x 2 x %.2f GHz (%@) = %.0f GFLOP/s",
                threads, vectorWidth, fmaUnits, fmaSource, clockGHz, clockSource, peakGFLOPs))
        return text
    }

    /// `GFLOP/s (x% of peak)` for `flops` done in `seconds`.
    func rate(flops: Double, seconds: Double) -> String {
        let gflops = flops / seconds / 1e9
        return String(format: "%.0f GFLOP/s, %.0f%% of peak", gflops, 100 * gflops / peakGFLOPs)
    }

    func print() { for line in lines { Swift.print(line) } }

    private static func sysctl(_ name: String) -> String? {
        #if canImport(Darwin)
            var size = 0
            guard sysctlbyname(name, nil, &size, nil, 0) == 0, size > 0 else { return nil }
            var buffer = [CChar](repeating: 0, count: size)
            guard sysctlbyname(name, &buffer, &size, nil, 0) == 0 else { return nil }
            return String(cString: buffer)
        #else
            return nil
        #endif
    }
}
