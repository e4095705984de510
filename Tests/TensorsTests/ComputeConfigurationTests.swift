import Testing

@testable import Tensors

/// The environment variables the executables honour: each value the
/// library knows is taken, and any other is an error naming the variable
/// and the value.
@Suite("Compute configuration from the environment")
struct ComputeConfigurationTests {
    @Test func knownValuesAreTaken() throws {
        let configuration = try ComputeConfiguration(environment: [
            "D3PM_THREADS": "3", "D3PM_CONV3X3": "winograd7x7", "D3PM_KERNELS": KernelPath.best.name,
        ])
        #expect(configuration.threads == 3)
        #expect(configuration.convolution3x3 == .winograd7x7)
        #expect(configuration.kernels == KernelPath.best)
        for algorithm in Convolution3x3Algorithm.allCases {
            let chosen = try ComputeConfiguration(environment: ["D3PM_CONV3X3": algorithm.rawValue])
            #expect(chosen.convolution3x3 == algorithm)
        }
        #expect(try ComputeConfiguration(environment: [:]) == ComputeConfiguration())
    }

    @Test(arguments: [
        ("D3PM_THREADS", "0"), ("D3PM_THREADS", "many"), ("D3PM_CONV3X3", "winograd8x8"), ("D3PM_KERNELS", "avx1024"),
    ])
    func unknownValuesAreErrorsNamingTheVariableAndTheValue(_ setting: (String, String)) {
        let (variable, value) = setting
        do {
            _ = try ComputeConfiguration(environment: [variable: value])
            Issue.record("\(variable)=\(value) was accepted")
        } catch {
            let message = String(describing: error)
            #expect(message.contains(variable) && message.contains("'\(value)'"), "\(message)")
        }
    }
}
