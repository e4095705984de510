import Foundation
import Tensors
import Testing

/// An operation given incompatible shapes stops the process with a message
/// naming the operation and both shapes; these tests run each misuse in a
/// child process and read what it printed.
@Suite("Shape errors name the operation and the shapes")
struct ShapeErrorTests {
    static let misuses: [(name: String, expected: [String])] = [
        ("add", ["+", "[2, 3]", "[4]"]),
        ("matmul", ["matmul", "[2, 3]", "[4, 5]"]),
        ("index", ["index 7", "axis 1", "size 3"]),
        ("reshape", ["reshaped", "[2, 3]", "[4, 2]"]),
        ("vecmat", ["vecmat", "[2, 3, 4]", "[2, 3, 3]"]),
        ("crossEntropy", ["crossEntropy", "[2, 4]", "[3]"]),
    ]

    @Test(arguments: misuses.map(\.name))
    func misuseStopsWithAClearMessage(_ name: String) async throws {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            [name = name as String] in
            switch name {
            case "add": _ = Tensor.zeros([2, 3]) + Tensor.zeros([4])
            case "matmul": _ = matmul(Tensor.zeros([2, 3]), Tensor.zeros([4, 5]))
            case "index": _ = Tensor.zeros([2, 3])[IntTensor([0]), IntTensor([7])]
            case "reshape": _ = Tensor.zeros([2, 3]).reshaped(4, 2)
            case "vecmat": _ = vecmat(Tensor.zeros([2, 3, 4]), Tensor.zeros([2, 3, 3]))
            default: _ = crossEntropy(Tensor.zeros([2, 4]), targets: IntTensor([0, 1, 2]))
            }
        }
        let message = String(decoding: try #require(result).standardErrorContent, as: UTF8.self)
        let expected = try #require(Self.misuses.first { $0.name == name }).expected
        for fragment in expected {
            #expect(message.contains(fragment), "stderr should contain \"\(fragment)\", got: \(message)")
        }
    }
}
