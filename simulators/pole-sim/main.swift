import AccessCore
import AccessProtocol
import ArgumentParser
import Foundation
import Logging
import Simulation

/// `pole-sim`: light poles on a day/night curve, with presence and faults.
@main
struct PoleSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pole-sim",
        abstract:
            "Simulate light poles: FIWARE-style telemetry on a day/night curve, presence, faults, verified light commands.",
        version: BuildInfo.versionText)

    @OptionGroup var connection: BrokerOptions
    @Option(help: "Site id.") var site: String
    @Option(help: "Topic prefix.") var prefix = "access"
    @Option(name: .customLong("site-key-file"), help: "The site key (64 hex digits); each pole derives its own key.")
    var siteKeyFile: String
    @Option(help: "Pole ids, comma-separated.") var poles: String
    @Option(help: "Simulated seconds per real second (60: an hour a minute).") var speed = 60.0
    @Option(help: "Simulated hour of day to start at.") var startHour = 17.0
    @Option(help: "Real seconds between telemetry messages.") var intervalS = 5.0
    @Option(help: "Chance in percent that a pole sees someone, per message.") var motionPercent = 10
    @Option(help: "Poles that report a defective lamp, comma-separated.") var fault: String?
    @Option(help: "Stop after this many real seconds (default: run until a signal).") var durationS: Double?

    func validate() throws {
        guard Identifier.isValid(site) else { throw ValidationError("--site breaks the identifier rule") }
        guard SimulatorOptions.devices(poles, needsSpace: false) != nil else {
            throw ValidationError("--poles must be poleId[,poleId...]")
        }
        guard speed > 0, speed <= 86_400 else { throw ValidationError("--speed must be in 0...86400") }
        guard (0..<24).contains(startHour) else { throw ValidationError("--start-hour must be in 0..<24") }
        guard intervalS >= 0.05 else { throw ValidationError("--interval-s must be at least 0.05") }
        guard (0...100).contains(motionPercent) else { throw ValidationError("--motion-percent must be 0 to 100") }
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let endpoint = try connection.endpoint()
        let keys = DeviceKeys(siteKey: try SimulatorOptions.key(file: siteKeyFile), siteID: site)
        let faulty = Set((fault ?? "").split(separator: ",").map(String.init))
        var simulated: [SimulatedPole] = []
        for pole in SimulatorOptions.devices(poles, needsSpace: false) ?? [] {
            let device = try SimulatedPole(
                broker: endpoint, siteID: site, prefix: prefix, poleID: pole.id, poleKey: keys.poleKey(poleID: pole.id))
            try await device.start()
            simulated.append(device)
        }
        print("pole-sim: \(simulated.count) poles online, \(speed)x time from \(startHour) h")
        let started = ContinuousClock.now
        var generator = SystemRandomNumberGenerator()
        while durationS.map({ (ContinuousClock.now - started) < .seconds($0) }) ?? true {
            let elapsed = ContinuousClock.now - started
            let realSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let secondOfDay = Int64(startHour * 3600 + realSeconds * speed) % 86_400
            for pole in simulated {
                let someone = Int.random(in: 0..<100, using: &generator) < motionPercent
                try await pole.report(
                    secondOfDay: secondOfDay, motion: someone, occupancy: someone ? 1 : 0,
                    status: faulty.contains(pole.poleID) ? "defectiveLamp" : "ok")
            }
            let executed = simulated.map { $0.commandResults.filter { $0 == .executed }.count }.reduce(0, +)
            print(
                String(
                    format: "pole-sim: %02d:%02d ambient %.1f lux, light commands executed %d", secondOfDay / 3600,
                    secondOfDay % 3600 / 60, PoleFirmware.ambientLux(secondOfDay: secondOfDay), executed))
            try await Task.sleep(for: .seconds(intervalS))
        }
        for pole in simulated { await pole.stop() }
    }
}
