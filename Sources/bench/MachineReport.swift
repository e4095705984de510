import CKernels
import Foundation
import Tensors

/// Where a benchmark stands: the processor, the kernel path, the threads,
/// and the machine's peak of fused multiply-adds, with how it was derived.
struct MachineReport {
    let processor: String
    let clockGHz: Double?
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
        if let mhz = field("cpu MHz").flatMap(Double.init) {
            clockGHz = mhz / 1000
            clockSource = "cpu MHz in /proc/cpuinfo"
        } else {
            clockGHz = nil
            clockSource = "clock unknown"
        }
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
    }

    /// The peak in GFLOP/s of `threads` cores: cores x floats per vector x FMA units x 2 x clock.
    var peakGFLOPs: Double? {
        clockGHz.map { Double(threads * vectorWidth * fmaUnits * 2) * $0 }
    }

    var lines: [String] {
        var text = [
            "processor: \(processor); kernels: \(path) (\(vectorWidth) floats a vector; supported here: \(KernelPath.supported.map(\.name).joined(separator: ", "))); threads: \(threads)"
        ]
        if let peak = peakGFLOPs, let clock = clockGHz {
            text.append(
                String(
                    format: "peak: %d cores x %d floats x %d FMA units (%@) x 2 x %.2f GHz (%@) = %.0f GFLOP/s",
                    threads, vectorWidth, fmaUnits, fmaSource, clock, clockSource, peak))
        } else {
            text.append("peak: unknown (the clock is not reported here)")
        }
        return text
    }

    /// `GFLOP/s (x% of peak)` for `flops` done in `seconds`.
    func rate(flops: Double, seconds: Double) -> String {
        let gflops = flops / seconds / 1e9
        guard let peak = peakGFLOPs else { return String(format: "%.0f GFLOP/s", gflops) }
        return String(format: "%.0f GFLOP/s, %.0f%% of peak", gflops, 100 * gflops / peak)
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
