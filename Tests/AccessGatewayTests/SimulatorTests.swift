import AccessCore
import AccessGateway
import AccessGatewayTesting
import AccessProtocol
import AccessTesting
import Crypto
import Foundation
import MQTT
import MQTTTesting
import Simulation
import Testing

/// The simulators as testers use them: the firmware rules, the real executables, and the
/// scenario against a real gateway.
@Suite(.serialized) struct SimulatorTests {
    @Test func lockFirmwareRefusesReplayedDelayedForgedAndForeignCommands() {
        let site = TestSite()
        let key = site.deviceKeys.lockKey(lockID: "lock-1")
        var firmware = LockFirmware(siteID: "site-1", lockID: "lock-1", lockKey: key)
        let now: Int64 = 1_795_276_800_000
        let command = LockCommand(
            siteID: "site-1", lockID: "lock-1", commandID: "c-1", requestID: "r-1", unlockForS: 5, issuedAtMs: now,
            ttlMs: 5000, lockKey: key)
        let payload = Array(command.payload.utf8)
        #expect(firmware.receive(payload, nowMs: now + 10).result == .executed)
        #expect(firmware.receive(payload, nowMs: now + 20).result == .replayed)
        let late = LockCommand(
            siteID: "site-1", lockID: "lock-1", commandID: "c-2", requestID: nil, unlockForS: 5, issuedAtMs: now,
            ttlMs: 5000,
            lockKey: key)
        #expect(firmware.receive(Array(late.payload.utf8), nowMs: now + 5001).result == .expired)
        let early = LockCommand(
            siteID: "site-1", lockID: "lock-1", commandID: "c-3", requestID: nil, unlockForS: 5, issuedAtMs: now + 5001,
            ttlMs: 5000, lockKey: key)
        #expect(firmware.receive(Array(early.payload.utf8), nowMs: now).result == .expired)
        let forged = command.payload.replacingOccurrences(of: "\"unlockForS\":5", with: "\"unlockForS\":60")
            .replacingOccurrences(of: "c-1", with: "c-4")
        #expect(firmware.receive(Array(forged.utf8), nowMs: now).result == .badMAC)
        let foreign = LockCommand(
            siteID: "site-1", lockID: "lock-2", commandID: "c-5", requestID: nil, unlockForS: 5, issuedAtMs: now,
            ttlMs: 5000,
            lockKey: site.deviceKeys.lockKey(lockID: "lock-2"))
        #expect(firmware.receive(Array(foreign.payload.utf8), nowMs: now).result == .badMAC)
        #expect(firmware.receive(Array("{}".utf8), nowMs: now).result == .unsupported)
    }

    static func executable(_ name: String) throws -> String {
        try #require(PackagePaths.executable(name), "build the package first")
    }

    @Test(arguments: [
        ("lock-sim", ["--site", "site-1", "--site-key-file", "/dev/null", "--locks", "lock-1"]),
        ("lock-sim", ["--site", "a/b", "--site-key-file", "/dev/null", "--locks", "lock-1@room-1"]),
        ("pole-sim", ["--site", "site-1", "--site-key-file", "/dev/null", "--poles", "pole-1", "--speed", "0"]),
        ("booking-sim", ["--site", "site-1", "--pin-key-file", "x", "--issuer-key-file", "y", "--broker", "nohost:0"]),
        (
            "lock-sim",
            ["--site", "site-1", "--site-key-file", "/dev/null", "--locks", "lock-1@room-1", "--tls-cert", "c"]
        ),
        ("mqtt-roundtrip", ["--broker", "a:b:c"]),
        (
            "pole-sim",
            [
                "--site", "site-1", "--site-key-file", "/dev/null", "--poles", "pole-1", "--username", "u",
                "--password-file", "/nonexistent",
            ]
        ),
        ("scenario", ["--locks", "2"]),
        ("scenario", ["--bogus"]),
    ])
    func badArgumentsPrintUsageAndExitNonZero(tool: String, arguments: [String]) throws {
        let result = try ExternalTool.capture(try Self.executable(tool), arguments)
        #expect(result.status != 0)
        #expect(
            result.standardError.contains("Usage:") || result.standardError.contains("Error:"),
            "\(result.standardError)")
    }

    @Test func killingLockSimAbruptlyRaisesLockOffline() async throws {
        let harness = try await GatewayHarness()
        try await harness.startGateway()
        let lockSim = try ChildProcess(
            executable: try Self.executable("lock-sim"),
            arguments: [
                "--broker", "127.0.0.1:\(harness.broker.port)", "--site", "site-1", "--site-key-file",
                harness.directory + "/site.key", "--locks", "lock-2@room-2,lock-3@room-3",
            ],
            outputFile: URL(fileURLWithPath: harness.directory + "/lock-sim.log"))
        defer { lockSim.terminate(SIGKILL, grace: .seconds(1)) }
        let online = await harness.inbox.first(timeout: .seconds(10)) {
            $0.topic == "access/site-1/locks/lock-3/status" && $0.payloadString?.contains("\"online\":true") == true
        }
        #expect(online != nil)
        lockSim.send(SIGKILL)
        let offline = await harness.inbox.first(timeout: .seconds(30)) {
            $0.topic == harness.topics.alarms && $0.payloadString?.contains("lock_offline") == true
                && $0.payloadString?.contains("lock-3") == true
        }
        #expect(offline != nil, "no lock_offline for lock-3")
    }

    @Test func lockSimOpensTheDoorWithABookingSimTokenAndPIN() async throws {
        let harness = try await GatewayHarness()
        try await harness.startGateway()
        // The harness gateway trusts TestSite's issuer; booking-sim uses that key here.
        let issuerKey = harness.directory + "/issuer.key"
        try TestGateway.writeSecret(Array(harness.site.minter.privateKey.rawRepresentation), to: issuerKey)
        let holders = harness.directory + "/holders.ndjson"
        let booking = try await ExternalTool.captureDetached(
            try Self.executable("booking-sim"),
            [
                "--broker", "127.0.0.1:\(harness.broker.port)", "--site", "site-1", "--pin-key-file",
                harness.directory + "/pin.key", "--issuer-key-file", issuerKey, "--kid", "kid-1", "--issuer",
                "https://booking.example", "--spaces", "room-1", "--count", "1", "--cancel-percent", "0",
                "--reschedule-percent", "0", "--holders-out", holders,
            ])
        #expect(booking.status == 0, "\(booking.standardError)")
        let holder = try #require(
            GatewayHarness.json(Array(try String(contentsOfFile: holders, encoding: .utf8).utf8)))
        let token = try #require(holder["token"] as? String)
        let pin = try #require(holder["pin"] as? String)
        let script = harness.directory + "/script.txt"
        try "present lock-1 token \(token)\npresent lock-1 pin \(pin)\nquit\n".write(
            toFile: script, atomically: true, encoding: .utf8)
        let run = try await ExternalTool.captureDetached(
            try Self.executable("lock-sim"),
            [
                "--broker", "127.0.0.1:\(harness.broker.port)", "--site", "site-1", "--site-key-file",
                harness.directory + "/site.key", "--locks", "lock-1@room-1", "--script", script,
            ])
        #expect(run.status == 0, "\(run.standardError)")
        let decisions = run.standardOutput.split(separator: "\n").filter { $0.hasPrefix("lock-1 {") }
        #expect(
            decisions.count == 2 && decisions.allSatisfy { $0.contains("\"reason\":\"granted\"") },
            "\(run.standardOutput)")
        let executed = run.standardOutput.split(separator: "\n").filter {
            $0.hasPrefix("lock-1 command") && $0.hasSuffix(" executed")
        }
        #expect(executed.count == 2, "\(run.standardOutput)")
        // Each unlock was verified and executed by the simulated lock, and reported.
        _ = await eventually {
            harness.messages(on: "access/site-1/locks/lock-1/event").filter {
                $0.payloadString?.contains("\"executed\"") == true
            }.count >= 2
        }
        #expect(
            harness.messages(on: "access/site-1/locks/lock-1/event").filter {
                $0.payloadString?.contains("\"executed\"") == true
            }.count == 2)
    }

    @Test(arguments: [11 as UInt64])
    func theScenarioPassesAtASmallSize(seed: UInt64) async throws {
        let result = try await ExternalTool.captureDetached(
            try Self.executable("scenario"),
            ["--spaces", "4", "--locks", "8", "--poles", "3", "--bookings", "40", "--seed", String(seed)])
        #expect(result.status == 0, "\(result.standardOutput)\n\(result.standardError.suffix(2000))")
        #expect(result.standardOutput.contains("PASS"))
        #expect(result.standardOutput.contains("false grants 0, false denials 0"))
    }
}
