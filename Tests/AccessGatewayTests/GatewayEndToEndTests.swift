import AccessCore
import AccessGateway
import AccessProtocol
import AccessTesting
import Foundation
import MQTT
import MQTTTesting
import Simulation
import Testing

/// The real `access-gateway` executable against a real mosquitto: what a lock, a pole, the
/// booking backend and an operator see over the wire.
@Suite(.serialized) struct GatewayEndToEndTests {
    /// A reservation that is active now, in room-1.
    static func activeBooking(id: String = "b-1", singleUse: Bool = false, space: String = "room-1") -> Reservation {
        let now = GatewayHarness.nowMs() / 1000 * 1000
        return Reservation(
            id: id, spaceID: space, holder: "u-1", startMs: now - 600_000, endMs: now + 3_600_000, version: 1,
            singleUse: singleUse)
    }

    @Test func aTokenAndAPINAreGrantedWithACommandWhoseMACVerifies() async throws {
        let harness = try await GatewayHarness()
        try await harness.startGateway()
        let booking = Self.activeBooking()
        try await harness.publishBooking(BookingMessage.upsert(booking).payload)
        let token = harness.site.token(for: booking, jti: "t-1")

        var properties = MQTTPublishProperties()
        properties.responseTopic = "access/site-1/locks/lock-1/reply"
        properties.correlationData = [1, 2, 3]
        let decision = try #require(
            try await harness.request(requestID: "r-1", credential: .token(token), properties: properties))
        #expect(decision["granted"] as? Bool == true && decision["reason"] as? String == "granted")
        let commandID = try #require(decision["commandId"] as? String)
        let commandMessage = try #require(
            await harness.inbox.first(on: harness.topics.command(lockID: "lock-1")), "no command")
        let command = try #require(GatewayHarness.json(commandMessage.payload))
        #expect(command["commandId"] as? String == commandID && command["action"] as? String == "unlock")
        let issuedAt = try #require(command["issuedAt"] as? Int64)
        let notAfter = try #require(command["notAfter"] as? Int64)
        let lifetime: Int64 = notAfter - issuedAt
        #expect(lifetime == 5000)
        let canonical = CommandMAC.lockCanonical(
            siteID: "site-1", lockID: "lock-1", commandID: commandID, action: "unlock", unlockForS: 5,
            issuedAt: issuedAt,
            notAfter: notAfter)
        let mac = try #require(command["mac"] as? String)
        #expect(
            CommandMAC.verify(mac: mac, canonical: canonical, key: harness.site.deviceKeys.lockKey(lockID: "lock-1")))
        #expect(!commandMessage.retain)
        #expect(
            (commandMessage.properties.messageExpiryInterval ?? 0) >= 4
                && (commandMessage.properties.messageExpiryInterval ?? 99) <= 5)
        // The v5 response topic under the lock's branch gets the decision with the correlation data.
        let reply = await harness.inbox.first(on: "access/site-1/locks/lock-1/reply")
        #expect(reply?.properties.correlationData == [1, 2, 3])

        let pin = harness.site.pin(of: booking)
        let pinDecision = try await harness.request(requestID: "r-2", credential: .pin(pin))
        #expect(pinDecision?["reason"] as? String == "granted")

        // A response topic aimed elsewhere is ignored.
        properties.responseTopic = "access/site-1/locks/lock-2/decision"
        _ = try await harness.request(requestID: "r-3", credential: .pin(pin), properties: properties)
        try await Task.sleep(for: .milliseconds(200))
        #expect(harness.messages(on: "access/site-1/locks/lock-2/decision").isEmpty)
    }

    @Test func everyDenyReasonIsReachableOverTheWire() async throws {
        let harness = try await GatewayHarness()
        try await harness.startGateway()
        let site = harness.site
        let booking = Self.activeBooking()
        let once = Self.activeBooking(id: "b-once", singleUse: true)
        var later = Self.activeBooking(id: "b-later")
        later.startMs += 86_400_000
        later.endMs += 86_400_000
        var earlier = Self.activeBooking(id: "b-earlier")
        earlier.startMs -= 86_400_000
        earlier.endMs -= 86_400_000
        for line in [booking, once, later, earlier].map({ BookingMessage.upsert($0).payload }) + [
            #"{"op":"revoke","jti":"t-revoked"}"#, #"{"op":"cancel","id":"b-gone","version":1}"#,
        ] {
            try await harness.publishBooking(line)
        }
        let nowS = GatewayHarness.nowMs() / 1000
        let m = site.minter
        func token(
            _ rid: String = "b-1", holder: String = "u-1", space: String = "room-1", nbf: Int64? = nil,
            exp: Int64? = nil, jti: String = "t-x"
        ) -> Credential {
            .token(
                m.token(
                    holder: holder, reservationID: rid, spaceID: space, notBeforeS: nbf ?? nowS - 60,
                    expiresS: exp ?? nowS + 3600, jti: jti))
        }
        let rows: [(String, Credential, String)] = [
            ("invalid_credential", .token("a.b.c"), "lock-1"),
            ("revoked", token(jti: "t-revoked"), "lock-1"),
            ("not_yet_valid", token(nbf: nowS + 600), "lock-1"),
            ("expired", token(exp: nowS - 600), "lock-1"),
            ("wrong_space", token(space: "room-2"), "lock-1"),
            ("unknown_reservation", token("b-none"), "lock-1"),
            ("holder_mismatch", token(holder: "u-9"), "lock-1"),
            ("cancelled", token("b-gone"), "lock-1"),
            ("not_yet_valid", .pin(site.pin(of: later)), "lock-1"),
            ("expired", .pin(site.pin(of: earlier)), "lock-1"),
            ("granted", token("b-once", jti: "t-once"), "lock-1"),
            ("already_used", .pin(site.pin(of: once)), "lock-1"),
        ]
        for (index, (expected, credential, lock)) in rows.enumerated() {
            let decision = try await harness.request(lockID: lock, requestID: "r-\(index)", credential: credential)
            #expect(decision?["reason"] as? String == expected, "row \(index)")
        }
        // Wrong PINs at lock-2 until it locks out.
        for attempt in 0..<5 {
            let decision = try await harness.request(
                lockID: "lock-2", requestID: "w-\(attempt)", credential: .pin("00000000"))
            #expect(decision?["reason"] as? String == "invalid_credential")
        }
        let locked = try await harness.request(lockID: "lock-2", requestID: "w-5", credential: .pin("00000000"))
        #expect(locked?["reason"] as? String == "locked_out" && (locked?["retryAfterS"] as? Int ?? 0) > 0)
        let bruteForce = await harness.inbox.first {
            $0.topic == harness.topics.alarms && $0.payloadString?.contains("brute_force") == true
        }
        #expect(bruteForce != nil)

        // Malformed, with and without a requestId; an unknown lock.
        try await harness.device.publishAcknowledged(
            MQTTMessage(
                topic: "access/site-1/locks/lock-3/request",
                payload: #"{"requestId":"m-1","credential":{"type":"pin","value":"12"}}"#))
        let malformed = await harness.inbox.first {
            $0.topic == harness.topics.decision(lockID: "lock-3") && $0.payloadString?.contains("m-1") == true
        }
        #expect(malformed?.payloadString?.contains("\"malformed\"") == true)
        try await harness.device.publishAcknowledged(
            MQTTMessage(topic: "access/site-1/locks/lock-9/request", payload: "{}"))
        let unknown = await harness.inbox.first(on: harness.topics.decision(lockID: "lock-9"))
        let unknownDecision = unknown.flatMap { GatewayHarness.json($0.payload) }
        #expect(unknownDecision?["reason"] as? String == "unknown_lock")
        #expect(unknownDecision?["requestId"] == nil)

        // A fault inside the gateway (its store damaged under it) is a denial, never a grant. The
        // gateway may be writing (its checkpoint, its last audit record): wait for its lock.
        try ExternalTool.run(
            "sqlite3", ["-cmd", ".timeout 10000", harness.databasePath, "DROP TABLE revoked_tokens"])
        let fault = try await harness.request(requestID: "f-1", credential: token(jti: "t-after-fault"))
        #expect(fault?["reason"] as? String == "internal_error" && fault?["granted"] as? Bool == false)
        #expect(harness.messages(on: harness.topics.command(lockID: "lock-1")).count == 1, "only the single-use grant")
    }

    /// A lock bursting past its budget is refused `rate_limited`; the refusals are published only
    /// within the same budget (a flood's answers would fill the one outbound window), the rest are
    /// decided and counted as withheld.
    @Test func aLockBurstingPastItsBudgetIsRateLimited() async throws {
        let harness = try await GatewayHarness(maxRequestsPerS: 2)
        try await harness.startGateway()
        for index in 0..<6 {
            try harness.device.publish(
                MQTTMessage(
                    topic: harness.topics.request(lockID: "lock-1"),
                    payload: AccessRequest(requestID: "q-\(index)", credential: .pin("1234")).payload))
        }
        let probe = GatewayProbe(port: harness.httpPort)
        #expect(await eventually { await probe.total("access_requests_total") == 6 })
        #expect(await probe.total("access_requests_total{reason=\"rate_limited\"}") == 4)
        #expect(await probe.total("access_decisions_withheld_total{reason=\"rate_limited\"}") == 2)
        _ = await eventually { harness.messages(on: harness.topics.decision(lockID: "lock-1")).count >= 4 }
        let reasons = harness.messages(on: harness.topics.decision(lockID: "lock-1")).compactMap {
            GatewayHarness.json($0.payload)?["reason"] as? String
        }
        #expect(reasons.count == 4 && reasons.filter { $0 == "rate_limited" }.count == 2, "\(reasons)")
    }

    @Test func aCancelOverBookingsDeniesTheVeryNextRequest() async throws {
        let harness = try await GatewayHarness()
        try await harness.startGateway()
        let booking = Self.activeBooking()
        try await harness.publishBooking(BookingMessage.upsert(booking).payload)
        let token = harness.site.token(for: booking, jti: "t-1")
        #expect(
            try await harness.request(requestID: "r-1", credential: .token(token))?["reason"] as? String == "granted")
        try await harness.publishBooking(#"{"op":"cancel","id":"b-1","version":2}"#)
        #expect(
            try await harness.request(requestID: "r-2", credential: .token(token))?["reason"] as? String == "cancelled")
    }

    @Test func doorsLastWillsAndPolesRaiseAlarmsOncePerEpisodeAndLightOnlyWhenDark() async throws {
        let harness = try await GatewayHarness()
        try await harness.startGateway()
        let events = "access/site-1/locks/lock-1/event"
        for _ in 0..<3 {
            try await harness.device.publishAcknowledged(
                MQTTMessage(topic: events, payload: #"{"type":"door","state":"open","ts":1}"#))
        }
        try await Task.sleep(for: .milliseconds(500))
        let forced = harness.messages(on: harness.topics.alarms).filter {
            $0.payloadString?.contains("door_forced") == true
        }
        #expect(forced.count == 1)

        // A lock's firmware (mosquitto_sub with a Last Will) reports low battery, then loses power.
        try await harness.device.publishAcknowledged(
            MQTTMessage(
                topic: "access/site-1/locks/lock-2/status", payload: #"{"online":true,"battery":15,"ts":1}"#,
                retain: true))
        let lowBattery = await harness.inbox.first {
            $0.topic == harness.topics.alarms && $0.payloadString?.contains("low_battery") == true
        }
        #expect(lowBattery?.payloadString?.contains("lock-2") == true)
        let firmware = try ChildProcess(
            executable: try #require(ExternalTool.locate("mosquitto_sub")),
            arguments: [
                "-p", String(harness.broker.port), "-V", "mqttv5", "-i", "lock-2-firmware", "-t",
                "access/site-1/locks/lock-2/command",
                "--will-topic", "access/site-1/locks/lock-2/status", "--will-payload", #"{"online":false}"#,
                "--will-retain",
                "--will-qos", "1",
            ])
        _ = await eventually { harness.broker.log().contains("lock-2-firmware") }
        try await Task.sleep(for: .milliseconds(200))
        firmware.send(SIGKILL)
        _ = firmware.waitForExit(timeout: .seconds(5))
        let offline = await harness.inbox.first(timeout: .seconds(10)) {
            $0.topic == harness.topics.alarms && $0.payloadString?.contains("lock_offline") == true
        }
        #expect(offline?.payloadString?.contains("lock-2") == true)
        #expect(
            harness.messages(on: harness.topics.alarms).filter { $0.payloadString?.contains("low_battery") == true }
                .count == 1)

        // Welcome lighting: bright → no pole command; dark → a signed pole command.
        let booking = Self.activeBooking()
        try await harness.publishBooking(BookingMessage.upsert(booking).payload)
        let pin = harness.site.pin(of: booking)
        try await harness.device.publishAcknowledged(
            MQTTMessage(topic: "access/site-1/poles/pole-1/telemetry", payload: #"{"ts":1,"illuminance":250.0}"#))
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await harness.request(requestID: "l-1", credential: .pin(pin))?["reason"] as? String == "granted")
        try await Task.sleep(for: .milliseconds(300))
        #expect(harness.messages(on: harness.topics.poleCommand(poleID: "pole-1")).isEmpty)
        try await harness.device.publishAcknowledged(
            MQTTMessage(topic: "access/site-1/poles/pole-1/telemetry", payload: #"{"ts":2,"illuminance":3.2}"#))
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await harness.request(requestID: "l-2", credential: .pin(pin))?["reason"] as? String == "granted")
        let light = try #require(await harness.inbox.first(on: harness.topics.poleCommand(poleID: "pole-1")))
        let command = try #require(GatewayHarness.json(light.payload))
        #expect(command["level"] as? Int == 100 && command["forS"] as? Int == 300)
        let canonical = CommandMAC.poleCanonical(
            siteID: "site-1", poleID: "pole-1", commandID: command["commandId"] as? String ?? "", action: "light",
            level: 100,
            forS: 300, issuedAt: command["issuedAt"] as? Int64 ?? 0, notAfter: command["notAfter"] as? Int64 ?? 0)
        #expect(
            CommandMAC.verify(
                mac: command["mac"] as? String ?? "", canonical: canonical,
                key: harness.site.deviceKeys.poleKey(poleID: "pole-1")))
    }
}
