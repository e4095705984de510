import Foundation

/// The child side of ``IsolatedRunner``: runs the named checks in this
/// process and prints one outcome line each. Executables that run checks
/// (`grade`, `d3pm`) expose it as the hidden `_run-checks` command.
public enum CheckChild {
    public static func run(implementation: Implementation, seed: UInt64, ids: String) throws {
        for id in ids.split(separator: ",") {
            guard let check = CheckCatalog.check(id: String(id)) else {
                throw CheckChildError(message: "unknown check '\(id)'")
            }
            let outcome = check.run(implementation, seed: seed)
            FileHandle.standardOutput.write(Data(OutcomeLine.encode(outcome).utf8))
        }
    }

    struct CheckChildError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}
