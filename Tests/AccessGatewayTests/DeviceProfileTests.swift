import AccessCore
import AccessGateway
import AccessProtocol
import AccessTesting
import Foundation
import MQTT
import MQTTTesting
import Simulation
import Testing

/// Hardware on the market, simulated in its own dialect against a real mosquitto and the real
/// gateway binary (docs/devices.md): Wiegand boards (ESPHome, Tasmota), a Zigbee2MQTT lock with
/// PIN push, a Nuki lock.
@Suite(.serialized) struct DeviceProfileTests {
    static let inventory = """
          spaces: [room-1, room-2, room-3]
          locks:
            - lock-1@room-1 profile=esphome-wiegand device=esp-door-1
            - lock-2@room-2 profile=tasmota-wiegand device=tasmota-door-2
            - lock-3@room-3 profile=zigbee2mqtt device=zlock-3 slots=1-5
            - lock-4@room-3 profile=nuki device=3A7F1B2C
          poles: [pole-1@room-1, pole-2@room-2, pole-3@room-3]
        """

    static func booking(
        _ id: String, space: String, holder: String = "u-1", startInS: Int64 = -600, endInS: Int64 = 3600
    ) -> Reservation {
        let now = GatewayHarness.nowMs() / 1000 * 1000
        return Reservation(
            id: id, spaceID: space, holder: holder, startMs: now + startInS * 1000, endMs: now + endInS * 1000,
            version: 1)
    }

    static func accessctl(_ harness: GatewayHarness, _ arguments: [String]) async throws -> ExternalTool.Captured {
        let tool = try #require(PackagePaths.executable("accessctl"), "build the package first")
        return try await ExternalTool.captureDetached(tool, arguments + ["--config", harness.configPath])
    }

    /// The next decision published for `lockID` after position `since`.
    static func decision(_ harness: GatewayHarness, lockID: String, since: Int) async -> [String: Any]? {
        await harness.inbox.first(since: since, timeout: .seconds(20)) {
            $0.topic == harness.topics.decision(lockID: lockID)
        }.flatMap { GatewayHarness.json($0.payload) }
    }

    @Test(arguments: [DeviceProfile.esphomeWiegand, .tasmotaWiegand])
    func aWiegandBoardPulsesItsRelayForAGrantedCodeOrCardAndForNothingElse(profile: DeviceProfile) async throws {
        let harness = try await GatewayHarness(inventory: Self.inventory)
        let (lockID, space, device) =
            profile == .esphomeWiegand ? ("lock-1", "room-1", "esp-door-1") : ("lock-2", "room-2", "tasmota-door-2")
        try await harness.startGateway()
        let booking = Self.booking("b-1", space: space)
        try await harness.publishBooking(BookingMessage.upsert(booking).payload)
        // u-1 has a booking now; u-2 has none.
        for (holder, card) in [("u-1", "4242001"), ("u-2", "7770002")] {
            let added = try await Self.accessctl(harness, ["holders", "card", "add", holder, card])
            #expect(added.status == 0, "\(added.standardError)")
        }
        let listed = try await Self.accessctl(harness, ["holders", "card", "list", "--json"])
        #expect(listed.status == 0 && !listed.standardOutput.contains("4242001"), "cards are never listed in clear")

        let board = try SimulatedWiegandBoard(
            broker: BrokerEndpoint(host: "127.0.0.1", port: harness.broker.port), profile: profile, device: device,
            logger: TestLogging.logger("wiegand-sim"))
        try await board.start()
        defer { Task { await board.stop() } }

        func attempt(_ action: () async throws -> Void) async throws -> (decision: [String: Any]?, pulse: Int?) {
            let since = harness.inbox.recorded.count
            let pulses = board.pulses.count
            try await action()
            let decision = await Self.decision(harness, lockID: lockID, since: since)
            let granted = decision?["granted"] as? Bool == true
            return (decision, await board.waitForPulse(after: pulses, timeout: .seconds(granted ? 10 : 1)))
        }

        let code = try await attempt { try await board.enterCode(harness.site.pin(of: booking)) }
        #expect(code.decision?["reason"] as? String == "granted", "\(harness.log().suffix(2000))")
        #expect(code.pulse == 5000, "a grant pulses the strike for unlockForS")

        let wrong = try await attempt { try await board.enterCode("99999999") }
        #expect(wrong.decision?["reason"] as? String == "invalid_credential" && wrong.pulse == nil)

        let card = try await attempt { try await board.presentCard("4242001") }
        #expect(card.decision?["reason"] as? String == "granted" && card.pulse == 5000)

        let noBooking = try await attempt { try await board.presentCard("7770002") }
        #expect(noBooking.decision?["reason"] as? String == "unknown_reservation" && noBooking.pulse == nil)

        let unknownCard = try await attempt { try await board.presentCard("1234567") }
        #expect(unknownCard.decision?["reason"] as? String == "invalid_credential" && unknownCard.pulse == nil)

        let malformed = try await attempt {
            try await board.publishRaw(
                kind: "code", profile == .esphomeWiegand ? "12#" : #"{"Wiegand":{"UID":5,"Size":12}}"#)
        }
        #expect(malformed.decision?["reason"] as? String == "malformed" && malformed.pulse == nil)

        // A retained code never opens (it would again at every start).
        let pulsesBefore = board.pulses.count
        try await board.publishRaw(
            kind: "code", profile == .esphomeWiegand ? harness.site.pin(of: booking) : "{}", retain: true)
        #expect(await board.waitForPulse(after: pulsesBefore, timeout: .seconds(2)) == nil)

        // The audit names the card's holder and never the number.
        await harness.stop()
        let audit = try await Self.accessctl(harness, ["audit", "query", "--json"])
        #expect(audit.status == 0, "\(audit.standardError)")
        let records = audit.standardOutput.split(separator: "\n").compactMap { GatewayHarness.json(Array($0.utf8)) }
        let cards = records.filter { $0["credentialType"] as? String == "card" }
        #expect(cards.count == 3)
        #expect(cards.contains { $0["granted"] as? Bool == true && $0["holder"] as? String == "u-1" })
        #expect(!audit.standardOutput.contains("4242001") && !audit.standardOutput.contains("7770002"))
        #expect(records.contains { $0["reason"] as? String == "malformed" && $0["lockId"] as? String == lockID })
    }

    @Test func aZigbeeLockHoldsPushedPINsOnlyThroughTheirWindowAndOpensWithTheGatewayStopped() async throws {
        let harness = try await GatewayHarness(
            extraYAML: "profiles:\n  pinPushAheadMin: 60", inventory: Self.inventory)
        let lock = try SimulatedZigbeeLock(
            broker: BrokerEndpoint(host: "127.0.0.1", port: harness.broker.port), device: "zlock-3",
            logger: TestLogging.logger("zigbee-sim"))
        try await lock.start()
        defer { Task { await lock.stop() } }
        try await harness.startGateway()

        let now = Self.booking("b-now", space: "room-3")
        let soon = Self.booking("b-soon", space: "room-3", holder: "u-2", startInS: 1800, endInS: 5400)
        let later = Self.booking("b-later", space: "room-3", holder: "u-3", startInS: 7200, endInS: 9000)
        let ending = Self.booking("b-ending", space: "room-3", holder: "u-4", startInS: -600, endInS: 6)
        let cancelled = Self.booking("b-cancelled", space: "room-3", holder: "u-5")
        for booking in [now, soon, later, ending, cancelled] {
            try await harness.publishBooking(BookingMessage.upsert(booking).payload)
        }
        let pins = Dictionary(
            uniqueKeysWithValues: [now, soon, later, ending, cancelled].map { ($0.id, harness.site.pin(of: $0)) })
        func held(_ id: String) -> Bool { lock.slots.values.contains(pins[id] ?? "-") }

        // Ahead of the window (and in it) the PINs are in the lock; beyond the push horizon not.
        #expect(
            await eventually(timeout: .seconds(15)) {
                held("b-now") && held("b-soon") && held("b-ending") && held("b-cancelled")
            },
            "\(lock.slots) \(harness.log().suffix(2000))")
        #expect(!held("b-later"))

        // A cancel clears its slot; a window that ends clears its slot.
        try await harness.publishBooking(#"{"op":"cancel","id":"b-cancelled","version":2}"#)
        #expect(await eventually(timeout: .seconds(15)) { !held("b-cancelled") }, "\(lock.slots)")
        #expect(await eventually(timeout: .seconds(20)) { !held("b-ending") }, "\(lock.slots)")
        #expect(held("b-now") && held("b-soon"))

        // A grant from a contract reader beside the door unlocks it through Zigbee2MQTT.
        let decision = try await harness.request(
            lockID: "lock-3", requestID: "r-1", credential: .pin(pins["b-now"] ?? ""))
        #expect(decision?["reason"] as? String == "granted")
        #expect(await eventually(timeout: .seconds(10)) { lock.remoteUnlocks == 1 })

        // The lock's own keypad, with the gateway running: audited as a keypad open.
        #expect(try await lock.keypad(pins["b-now"] ?? ""))
        #expect(!(try await lock.keypad("00000000")))
        try await Task.sleep(for: .seconds(2))

        // The gateway stops: pushed PINs still open the door, others do not.
        await harness.stop()
        #expect(try await lock.keypad(pins["b-soon"] ?? ""))
        #expect(!(try await lock.keypad(pins["b-later"] ?? "")))
        #expect(!(try await lock.keypad(pins["b-cancelled"] ?? "")))

        let audit = try await Self.accessctl(harness, ["audit", "query", "--json"])
        let records = audit.standardOutput.split(separator: "\n").compactMap { GatewayHarness.json(Array($0.utf8)) }
        let events = records.compactMap { record -> String? in
            guard let event = record["event"] as? String else { return nil }
            return "\(event) \(record["reservationId"] as? String ?? "-")"
        }
        for expected in [
            "pin_slot_set b-now", "pin_slot_set b-soon", "pin_slot_set b-ending", "pin_slot_cleared b-ending",
            "pin_slot_cleared b-cancelled", "keypad_open b-now",
        ] {
            #expect(events.contains(expected), "\(events)")
        }
        #expect(!audit.standardOutput.contains(pins["b-now"] ?? "-"), "no PIN in the audit")
        #expect(
            records.contains { $0["reason"] as? String == "cancelled" && $0["event"] as? String == "pin_slot_cleared" })
    }

    @Test func aNukiLockUnlatchesOnAGrantAndAnErrorResponseRaisesCommandFailed() async throws {
        let harness = try await GatewayHarness(inventory: Self.inventory)
        let nuki = try SimulatedNukiLock(
            broker: BrokerEndpoint(host: "127.0.0.1", port: harness.broker.port), device: "3A7F1B2C",
            logger: TestLogging.logger("nuki-sim"))
        try await nuki.start()
        defer { Task { await nuki.stop() } }
        try await harness.startGateway()
        let booking = Self.booking("b-1", space: "room-3")
        try await harness.publishBooking(BookingMessage.upsert(booking).payload)
        let pin = harness.site.pin(of: booking)

        let first = try await harness.request(lockID: "lock-4", requestID: "r-1", credential: .pin(pin))
        #expect(first?["reason"] as? String == "granted")
        #expect(await eventually(timeout: .seconds(10)) { nuki.actions == [3] }, "unlatch")
        try await Task.sleep(for: .seconds(1))
        #expect(harness.messages(on: harness.topics.alarms).isEmpty, "a successful response raises nothing")

        nuki.failWith(37)
        let second = try await harness.request(lockID: "lock-4", requestID: "r-2", credential: .pin(pin))
        #expect(second?["reason"] as? String == "granted")
        let alarm = await harness.inbox.first(on: harness.topics.alarms, timeout: .seconds(10)).flatMap {
            GatewayHarness.json($0.payload)
        }
        #expect(
            alarm?["type"] as? String == "command_failed" && alarm?["lockId"] as? String == "lock-4",
            "\(harness.log().suffix(2000))")
        #expect((alarm?["detail"] as? String)?.contains("error 37") == true)
        #expect(nuki.actions == [3])
        await harness.stop()
    }

    @Test func aMessageOutOfItsDialectIsDroppedAndCounted() async throws {
        let harness = try await GatewayHarness(inventory: Self.inventory)
        try await harness.startGateway()
        for (topic, payload) in [
            ("esp-door-1/status", "maybe"), ("nuki/3A7F1B2C/state", "-1"), ("zigbee2mqtt/zlock-3", "[1,2]"),
            ("stat/tasmota-door-2/POWER1", "TOGGLE"),
        ] {
            try await harness.device.publishAcknowledged(MQTTMessage(topic: topic, payload: payload))
        }
        let counted = await eventually(timeout: .seconds(10)) {
            let metrics = (try? await harness.http("/metrics").body) ?? ""
            return metrics.contains(#"access_messages_dropped_total{kind="malformed_profile"} 4"#)
        }
        let metrics = (try? await harness.http("/metrics").body) ?? ""
        #expect(counted, "\(metrics.split(separator: "\n").filter { $0.contains("dropped") })")
        #expect(harness.gateway?.isRunning == true)
        await harness.stop()
    }
}
