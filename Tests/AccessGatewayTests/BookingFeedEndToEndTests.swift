import AccessCore
import AccessGateway
import AccessProtocol
import AccessTesting
import Foundation
import MQTT
import MQTTTesting
import Simulation
import Testing

/// The booking feed (contract v1.1) with the real gateway, a real mosquitto and the simulated
/// backend's durable feed: whatever the gateway missed comes back by replay, and every cancel holds.
@Suite(.serialized) struct BookingFeedEndToEndTests {
    static func booking(_ id: String, holder: String = "u-1", version: Int64 = 1, hoursAhead: Int64 = 0) -> Reservation
    {
        var r = GatewayEndToEndTests.activeBooking(id: id)
        r.holder = holder
        r.version = version
        r.startMs += hoursAhead * 3_600_000
        r.endMs += hoursAhead * 3_600_000
        return r
    }

    func backend(_ harness: GatewayHarness, keep: Int = 100_000) async throws -> BookingFeedBackend {
        let backend = try BookingFeedBackend(
            broker: BrokerEndpoint(host: "127.0.0.1", port: harness.broker.port), siteID: "site-1",
            feedFile: harness.directory + "/feed.ndjson",
            keep: keep, logger: TestLogging.logger("backend"))
        try await backend.start()
        return backend
    }

    /// Waits until the gateway has applied every message up to `seq` (its applied-seq gauge).
    func caughtUp(_ harness: GatewayHarness, to seq: Int64, timeout: Duration = .seconds(30)) async -> Bool {
        let probe = GatewayProbe(port: harness.httpPort)
        return await eventually(timeout: timeout, every: .milliseconds(100)) {
            await probe.total("access_booking_feed_applied_seq") ?? 0 >= Double(seq)
        }
    }

    /// Cancels, revokes and a reschedule published while the gateway was stopped: with its
    /// persistent session the broker queued them; without one (`sessionExpiryS: 0`) the retained
    /// head shows the gap and the replay brings them. Either way the first requests after the
    /// start get the new outcomes.
    @Test(arguments: [true, false])
    func whatWasPublishedWhileTheGatewayWasStoppedHoldsAtStart(persistentSession: Bool) async throws {
        let harness = try await GatewayHarness()
        let environment = persistentSession ? [:] : ["ACCESS_GATEWAY_BROKER_BOOKINGS_SESSION_EXPIRY_S": "0"]
        try await harness.startGateway(environment: environment)
        let backend = try await backend(harness)
        defer { Task { await backend.stop() } }
        let cancelled = Self.booking("b-1", holder: "u-1")
        let revoked = Self.booking("b-2", holder: "u-2")
        let moved = Self.booking("b-3", holder: "u-3")
        for booking in [cancelled, revoked, moved] { try await backend.publish(.upsert(booking)) }
        #expect(await caughtUp(harness, to: 3))
        let tokens = [
            harness.site.token(for: cancelled, jti: "t-1"), harness.site.token(for: revoked, jti: "t-2"),
            harness.site.token(for: moved, jti: "t-3"),
        ]
        for (index, token) in tokens.enumerated() {
            let lock = "lock-1"
            #expect(
                try await harness.request(lockID: lock, requestID: "a-\(index)", credential: .token(token))?["reason"]
                    as? String == "granted")
        }

        await harness.stop()
        try await backend.publish(.cancel(reservationID: "b-1", version: 2))
        try await backend.publish(.revoke(jti: "t-2"))
        try await backend.publish(.upsert(Self.booking("b-3", holder: "u-3", version: 2, hoursAhead: 24)))

        let started = ContinuousClock.now
        try await harness.startGateway(environment: environment)
        #expect(await caughtUp(harness, to: 6))
        let caughtUpAfter = ContinuousClock.now - started
        let reasons = try await tokens.enumerated().asyncMap { index, token in
            try await harness.request(requestID: "after-\(index)", credential: .token(token))?["reason"] as? String
        }
        #expect(
            reasons == ["cancelled", "revoked", "not_yet_valid"],
            "caught up \(caughtUpAfter) after start; log:\n\(harness.log().suffix(3000))")
        #expect(persistentSession || backend.answered >= 1, "without a session, only a replay brings them")
        await harness.stop()
    }

    /// The operator's report: gateway stopped, a (v1) cancel published, gateway started. The
    /// booking connection's persistent session had the broker queue it.
    @Test func aCancelPublishedWhileTheGatewayWasStoppedIsQueuedInItsSession() async throws {
        let harness = try await GatewayHarness()
        try await harness.startGateway()
        let booking = Self.booking("b-78")
        try await harness.publishBooking(BookingMessage.upsert(booking).payload)
        await harness.stop()
        try await harness.device.publishAcknowledged(
            MQTTMessage(
                topic: harness.topics.bookings,
                payload: BookingMessage.cancel(reservationID: "b-78", version: 5).payload))
        try await harness.startGateway()
        let probe = GatewayProbe(port: harness.httpPort)
        #expect(await probe.waitForBookings(1, timeout: .seconds(10)))
        let token = harness.site.token(for: booking, jti: "t-78")
        #expect(
            try await harness.request(requestID: "r-1", credential: .token(token))?["reason"] as? String == "cancelled")
        await harness.stop()
    }

    @Test func aBrokerRestartedWithoutPersistenceLosesItsQueueAndTheReplayStillClosesTheGap() async throws {
        let harness = try await GatewayHarness()
        try await harness.startGateway()
        let backend = try await backend(harness)
        defer { Task { await backend.stop() } }
        let booking = Self.booking("b-1")
        try await backend.publish(.upsert(booking))
        #expect(await caughtUp(harness, to: 1))
        await harness.stop()
        try await backend.publish(.cancel(reservationID: "b-1", version: 2))
        try harness.broker.restart()  // persistence off: whatever it queued is gone
        try await harness.startGateway()
        #expect(await caughtUp(harness, to: 2))
        let token = harness.site.token(for: booking, jti: "t-1")
        #expect(
            try await harness.request(requestID: "r-1", credential: .token(token))?["reason"] as? String == "cancelled")
        await harness.stop()
    }

    @Test func withTheBackendDownTheGatewayDecidesFromItsStoreAndSaysItIsBehind() async throws {
        let harness = try await GatewayHarness()
        try await harness.startGateway()
        let first = try await backend(harness)
        let booking = Self.booking("b-1")
        try await first.publish(.upsert(booking))
        #expect(await caughtUp(harness, to: 1))
        // The cancel is recorded in the feed while the gateway is away (a running gateway would see
        // the new head and ask for a replay before the backend goes), then the backend goes.
        await harness.stop()
        try await first.record(.cancel(reservationID: "b-1", version: 2))
        await first.stop()
        try await harness.startGateway()
        let token = harness.site.token(for: booking, jti: "t-1")
        // Behind, and says so; still deciding from its store.
        let behind = await eventually(timeout: .seconds(20)) {
            (try? await harness.http("/healthz").body.hasPrefix("degraded: booking feed 1 messages behind")) == true
        }
        let healthNow = try await harness.http("/healthz").body
        #expect(behind, "\(healthNow)\n\(harness.log().suffix(3000))")
        #expect(try await harness.http("/healthz").status == 200)
        #expect(
            try await harness.request(requestID: "r-1", credential: .token(token))?["reason"] as? String == "granted")
        // The backend comes back (its feed file kept everything): the gap closes by itself.
        let backend = try await self.backend(harness)
        defer { Task { await backend.stop() } }
        #expect(await caughtUp(harness, to: 2, timeout: .seconds(40)))
        #expect(
            try await harness.request(requestID: "r-2", credential: .token(token))?["reason"] as? String == "cancelled")
        let health = try await harness.http("/healthz")
        #expect(
            health.status == 200 && health.body.trimmingCharacters(in: .whitespacesAndNewlines) == "ok", "\(health)")
        await harness.stop()
    }

    @Test func aBackendThatCannotReplayFromThePositionResyncsAndEveryCancelHolds() async throws {
        let harness = try await GatewayHarness()
        try await harness.startGateway()
        let backend = try await backend(harness, keep: 2)
        defer { Task { await backend.stop() } }
        let bookings = (1...4).map { Self.booking("b-\($0)", holder: "u-\($0)") }
        for booking in bookings { try await backend.publish(.upsert(booking)) }
        #expect(await caughtUp(harness, to: 4))
        await harness.stop()
        for index in 1...4 { try await backend.publish(.cancel(reservationID: "b-\(index)", version: 2)) }
        try await harness.startGateway()
        // The gateway asks after 4; the backend keeps only 7 and 8: it republishes and resyncs.
        #expect(await caughtUp(harness, to: 8))
        // What an operator sees.
        let accessctl = try #require(PackagePaths.executable("accessctl"), "build the package first")
        let status = try await ExternalTool.captureDetached(
            accessctl, ["bookings", "status", "--config", harness.configPath, "--json"])
        #expect(status.status == 0, "\(status.standardError)")
        let json = try #require(GatewayHarness.json(Array(status.standardOutput.utf8)))
        #expect(json["appliedSeq"] as? Int == 8 && json["headSeq"] as? Int == 8 && json["lagMessages"] as? Int == 0)
        for (index, booking) in bookings.enumerated() {
            let token = harness.site.token(for: booking, jti: "t-\(index)")
            #expect(
                try await harness.request(requestID: "r-\(index)", credential: .token(token))?["reason"] as? String
                    == "cancelled")
        }
        await harness.stop()
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
