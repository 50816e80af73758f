import AccessCore
import AccessProtocol
import ArgumentParser
import Foundation
import Logging
import Simulation

/// `lock-sim`: smart locks on the wire, driven by a script or by commands on stdin.
@main
struct LockSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lock-sim",
        abstract: "Simulate smart locks: status with Last Will, heartbeats, credentials, verified commands, a door.",
        discussion: """
            Each lock has its own MQTT connection, a retained status with a Last Will, and executes a
            command only when its MAC verifies with the lock's derived key, it is fresh and its id is new,
            reporting a command_result either way. Commands, one per line, from --script or stdin:
              present LOCK token JWT | present LOCK pin DIGITS   (prints the decision)
              force LOCK (door forced open, left ajar until) close LOCK | jam LOCK | tamper LOCK
              battery LOCK PERCENT
              offline LOCK   (power cut: the broker publishes the Last Will)
              sleep MS | quit
            At the end of the input the locks keep running (heartbeats) until SIGINT or SIGTERM.

            With --profile other than contract, each lock is hardware of that kind speaking its own
            dialect (docs/devices.md), named by --devices (default: the lock id):
              esphome-wiegand, tasmota-wiegand: code LOCK DIGITS | card LOCK NUMBER | door LOCK open|closed
                (the relay's pulses are printed as they come)
              zigbee2mqtt: keypad LOCK PIN (checked by the lock against its own PIN slots) | slots LOCK |
                fail-writes LOCK on|off
              nuki: fail LOCK CODE|off (answer lock actions with that commandResponse error)
              and for all: offline LOCK | sleep MS | quit
            """, version: BuildInfo.versionText)

    @OptionGroup var connection: BrokerOptions
    @Option(help: "Site id.") var site: String
    @Option(help: "Topic prefix.") var prefix = "access"
    @Option(name: .customLong("site-key-file"), help: "The site key (64 hex digits); each lock derives its own key.")
    var siteKeyFile: String
    @Option(help: "Locks as lockId@spaceId, comma-separated.") var locks: String
    @Option(help: "Seconds between heartbeats.") var heartbeatS = 60
    @Option(help: "Battery percent drained per heartbeat.") var drain = 1
    @Option(help: "Read commands from this file instead of stdin.") var script: String?
    @Option(help: "The locks' hardware: contract, esphome-wiegand, tasmota-wiegand, zigbee2mqtt or nuki.")
    var profile = "contract"
    @Option(help: "Each lock's device name in its dialect, lockId=device, comma-separated (default: the lock id).")
    var devices = ""
    @Option(help: "Zigbee2MQTT's base topic.") var zigbeeBase = "zigbee2mqtt"

    func validate() throws {
        guard Identifier.isValid(site) else { throw ValidationError("--site breaks the identifier rule") }
        guard SimulatorOptions.devices(locks, needsSpace: true) != nil else {
            throw ValidationError("--locks must be lockId@spaceId[,lockId@spaceId...]")
        }
        guard heartbeatS >= 1 else { throw ValidationError("--heartbeat-s must be at least 1") }
        guard DeviceProfile(rawValue: profile) != nil else {
            throw ValidationError(
                "--profile must be one of \(DeviceProfile.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard deviceNames != nil else { throw ValidationError("--devices must be lockId=device[,lockId=device...]") }
    }

    /// `--devices` as lock id → device name; nil when it does not parse.
    var deviceNames: [String: String]? {
        var names: [String: String] = [:]
        for entry in devices.split(separator: ",") {
            let pair = entry.split(separator: "=").map(String.init)
            guard pair.count == 2, Identifier.isValid(pair[0]), Identifier.isValid(pair[1]) else { return nil }
            names[pair[0]] = pair[1]
        }
        return names
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let endpoint = try connection.endpoint()
        if let profile = DeviceProfile(rawValue: profile), profile != .contract {
            return try await DialectLocks.run(
                profile: profile, endpoint: endpoint, locks: SimulatorOptions.devices(locks, needsSpace: true) ?? [],
                names: deviceNames ?? [:], zigbeeBase: zigbeeBase, script: script)
        }
        let keys = DeviceKeys(siteKey: try SimulatorOptions.key(file: siteKeyFile), siteID: site)
        var simulated: [String: SimulatedLock] = [:]
        for lock in SimulatorOptions.devices(locks, needsSpace: true) ?? [] {
            let device = try SimulatedLock(
                broker: endpoint, siteID: site, prefix: prefix, lockID: lock.id, spaceID: lock.space,
                lockKey: keys.lockKey(lockID: lock.id))
            try await device.start()
            simulated[lock.id] = device
        }
        print("lock-sim: \(simulated.count) locks online")
        let all = Array(simulated.values)
        let (interval, drain) = (heartbeatS, self.drain)
        let heartbeat = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(interval))
                for lock in all { try? await lock.heartbeat(drain: drain) }
            }
        }
        defer { heartbeat.cancel() }

        let lines = try scriptLines(script)
        var number = 0
        for line in lines {
            number += 1
            let words = line.split(separator: " ").map(String.init)
            guard let verb = words.first, !verb.hasPrefix("#") else { continue }
            if verb == "quit" {
                // A clean goodbye: what the locks already handed over (command results) is sent first.
                for lock in simulated.values { await lock.stop() }
                return
            }
            if verb == "sleep", words.count == 2, let ms = Int(words[1]) {
                try await Task.sleep(for: .milliseconds(ms))
                continue
            }
            guard words.count >= 2, let lock = simulated[words[1]] else {
                FileHandle.standardError.write(
                    Data("lock-sim: line \(number): unknown command or lock: \(line)\n".utf8))
                continue
            }
            switch (verb, words.count) {
            case ("present", 4) where words[2] == "token" || words[2] == "pin":
                let credential: Credential = words[2] == "token" ? .token(words[3]) : .pin(words[3])
                let decision = try await lock.present(credential, requestID: "sim-\(number)")
                let data = try JSONSerialization.data(
                    withJSONObject: decision ?? ["timeout": true], options: [.sortedKeys])
                print("\(lock.lockID) \(String(decoding: data, as: UTF8.self))")
                // A grant is followed by its command: report what the lock did with it.
                if let commandID = decision?["commandId"] as? String {
                    let result = await lock.waitForCommandResult(commandID: commandID, timeout: .seconds(3))
                    print("\(lock.lockID) command \(commandID) \(result?.rawValue ?? "never arrived")")
                }
            case ("force", 2), ("ajar", 2): lock.forceDoorOpen()  // open with no unlock; stays open until `close`
            case ("close", 2): lock.closeDoor()
            case ("jam", 2): lock.jam()
            case ("tamper", 2): lock.tamper()
            case ("battery", 3): try await lock.setBattery(Int(words[2]) ?? 100)
            case ("offline", 2): await lock.powerCut()
            default:
                FileHandle.standardError.write(Data("lock-sim: line \(number): cannot parse: \(line)\n".utf8))
            }
        }
        // Keep the locks alive until a signal ends the process (their wills then fire).
        while true { try await Task.sleep(for: .seconds(3600)) }
    }
}
