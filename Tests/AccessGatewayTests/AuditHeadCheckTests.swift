import AccessProtocol
import AccessTesting
import Foundation
import MQTT
import MQTTTesting
import Testing

/// (v1.1) An audit log cut short while the gateway was stopped: the shortened chain still
/// verifies, but the head the gateway published before it stopped is no longer in the store.
@Suite struct AuditHeadCheckTests {
    @Test func aChainCutShortWhileStoppedRaisesAuditTruncatedAndDecidingGoesOn() async throws {
        let harness = try await GatewayHarness()
        try await harness.startGateway()
        for index in 0..<5 {
            _ = try await harness.request(requestID: "r-\(index)", credential: .pin("1234567\(index)"))
        }
        await harness.stop()  // publishes the final head, retained
        let headTopic = harness.topics.auditHead(gatewayID: "gw-1")
        #expect(
            await eventually(timeout: .seconds(5)) {
                harness.messages(on: headTopic).last.flatMap { GatewayMessages.parseAuditHead($0.payload) }?.seq == 5
            })

        // A clean restart: the head is in the store, no alarm.
        try await harness.startGateway()
        _ = try await harness.request(requestID: "r-ok", credential: .pin("12345670"))
        #expect(
            !harness.messages(on: harness.topics.alarms).contains {
                $0.payloadString?.contains("audit_truncated") == true
            })
        await harness.stop()

        // Cut the last three records while stopped: what remains verifies on its own.
        try ExternalTool.run("sqlite3", [harness.databasePath, "DELETE FROM audit_log WHERE seq > 3"])
        try await harness.startGateway()
        let alarm = await harness.inbox.first(timeout: .seconds(10)) {
            $0.topic == harness.topics.alarms && $0.payloadString?.contains("audit_truncated") == true
        }
        let detail = try #require(alarm?.payloadString, "\(harness.log().suffix(3000))")
        #expect(detail.contains("seq 6") && detail.contains("store head: seq 3"), "\(detail)")
        let health = try await harness.http("/healthz")
        #expect(health.status == 200 && health.body.contains("degraded: audit_truncated"), "\(health.body)")
        // It goes on deciding, the chain continuing from the store's last record.
        // (lock-1's keypad is locked out by now: the lockout survived the restarts.)
        let decided = try await harness.request(lockID: "lock-3", requestID: "r-after", credential: .pin("12345670"))
        #expect(decided?["reason"] as? String == "invalid_credential")
        await harness.stop()
    }
}
