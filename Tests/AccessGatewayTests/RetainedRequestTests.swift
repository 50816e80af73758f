import AccessProtocol
import AccessTesting
import Foundation
import MQTT
import MQTTTesting
import Testing

/// (v1.1) A request left retained on the broker is never decided: not when it is published (the
/// gateway subscribes with Retain As Published and drops a message whose flag is set), and not
/// at a restart (Retain Handling 2: the broker does not send it at subscribe time).
@Suite struct RetainedRequestTests {
    @Test func aRetainedRequestOpensNothingLiveOrAtARestart() async throws {
        let harness = try await GatewayHarness()
        try await harness.startGateway()
        let booking = GatewayEndToEndTests.activeBooking(space: "room-1")
        try await harness.publishBooking(BookingMessage.upsert(booking).payload)
        let token = harness.site.token(for: booking, jti: "t-retained")
        let retained = AccessRequest(requestID: "r-retained", credential: .token(token)).payload
        try await harness.device.publishAcknowledged(
            MQTTMessage(topic: harness.topics.request(lockID: "lock-1"), payload: retained, retain: true))
        // The same token, not retained, is granted: the booking and the token are good.
        let live = try await harness.request(requestID: "r-live", credential: .token(token))
        #expect(live?["reason"] as? String == "granted")

        await harness.stop()
        try await harness.startGateway()
        _ = try await harness.request(requestID: "r-after", credential: .pin("12345678"))
        let decisions = harness.messages(on: harness.topics.decision(lockID: "lock-1")).compactMap(\.payloadString)
        #expect(!decisions.contains { $0.contains("r-retained") }, "\(decisions)")
        let commands = harness.messages(on: harness.topics.command(lockID: "lock-1"))
        #expect(commands.count == 1)
        let metrics = try await harness.http("/metrics").body
        #expect(metrics.contains(#"access_messages_dropped_total{kind="retained"}"#))
        await harness.stop()
    }
}
