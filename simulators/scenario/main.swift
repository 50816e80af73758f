import AccessProtocol
import ArgumentParser
import Foundation
import Logging
import Simulation

/// `scenario`: a day at a site against a real gateway, every outcome checked.
@main
struct ScenarioCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scenario",
        abstract: "Play a site's day (holders and attackers) against a real access-gateway and check every outcome.",
        discussion: """
            Starts a private mosquitto on loopback (or uses --broker) and an access-gateway with its own
            keys and store, runs simulated locks, poles and the booking backend, and checks every decision,
            command, command result, alarm and welcome light against an independent oracle.
            Exit status: 0 when everything matched, 1 on any mismatch.
            """, version: BuildInfo.versionText)

    @Option(help: "Spaces.") var spaces = 50
    @Option(help: "Locks (the last one is kept for PIN guessing).") var locks = 80
    @Option(help: "Light poles.") var poles = 30
    @Option(help: "Reservations.") var bookings = 2000
    @Option(help: "Seed: the same seed plays the same day.") var seed: UInt64 = 1
    @Option(help: "Use this broker (host, or host:port) instead of starting one.") var broker: String?
    @Option(help: "The access-gateway executable (default: next to this one).") var gateway: String?

    func validate() throws {
        guard spaces >= 2 else { throw ValidationError("--spaces must be at least 2") }
        guard locks >= 6 else { throw ValidationError("--locks must be at least 6 (some are used for alarms)") }
        guard poles >= 1 else { throw ValidationError("--poles must be at least 1") }
        guard bookings >= 1 else { throw ValidationError("--bookings must be at least 1") }
        if let broker, SimulatorOptions.broker(broker) == nil {
            throw ValidationError("--broker must be host or host:port, got \"\(broker)\"")
        }
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let executable =
            gateway
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("access-gateway").path
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw ValidationError("no access-gateway at \(executable); build it or pass --gateway")
        }
        var options = ScenarioRunner.Options(gatewayExecutable: executable)
        options.spaces = spaces
        options.locks = locks
        options.poles = poles
        options.bookings = bookings
        options.seed = seed
        options.broker = broker.flatMap { SimulatorOptions.broker($0) }
        options.progress = { line in FileHandle.standardError.write(Data("scenario: \(line)\n".utf8)) }
        let report = try await ScenarioRunner(options: options).run()
        for line in report.lines { print(line) }
        if report.passed {
            print("PASS: every outcome matched the oracle")
        } else {
            print("FAIL: \(report.mismatches.count) mismatches")
            for mismatch in report.mismatches { print("  \(mismatch)") }
            throw ExitCode(1)
        }
    }
}
