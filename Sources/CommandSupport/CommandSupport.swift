import ArgumentParser
import Checks
import D3PM
import Diffusion
import Foundation
import Plotting

/// A command that could not do its job, for a reason other than how it was
/// called (for those, `ValidationError` adds the usage).
public struct CommandFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Runs checks for ``IsolatedRunner``'s child processes. Every executable
/// that grades (`grade`, `d3pm`) lists it among its subcommands; it is hidden.
public struct RunChecks: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "_run-checks", shouldDisplay: false)

    @Option public var implementation: Implementation
    @Option public var seed: UInt64
    @Option public var ids: String

    public init() {}

    public func run() throws {
        try CheckChild.run(implementation: implementation, seed: seed, ids: ids)
    }
}

extension Implementation: ExpressibleByArgument {}
extension DisplayMode: ExpressibleByArgument {}
extension Corruption: ExpressibleByArgument {}
extension NoiseSchedule: ExpressibleByArgument {}
extension LossWeighting: ExpressibleByArgument {}
extension ModelArchitecture: ExpressibleByArgument {}
