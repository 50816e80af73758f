import Foundation
import MQTT
import MQTTTesting
import Simulation
import Testing

/// The scenario starts from a clean site on a broker that outlived an earlier run (as
/// scripts/run.sh's does): the earlier run's retained audit head and Last Wills would otherwise
/// make the new gateway raise `audit_truncated` and a second `lock_offline`.
@Suite struct ScenarioCleanStartTests {
    @Test func retainedMessagesOfTheSiteAreClearedAndOthersKept() async throws {
        try await withMosquittoBroker { broker in
            let client = try await broker.connectedClient("leftovers")
            for topic in ["access/site-sim/gateway/gw-sim/audit", "access/site-sim/locks/lock-5/status"] {
                try await client.publishAcknowledged(MQTTMessage(topic: topic, payload: "old", retain: true))
            }
            try await client.publishAcknowledged(
                MQTTMessage(topic: "access/other/locks/lock-1/status", payload: "keep", retain: true))
            try await ScenarioRunner.clearRetained(
                under: "access/site-sim/#", broker: ("127.0.0.1", broker.port), clientID: "cleaner")
            let reader = try await broker.connectedClient("reader")
            let inbox = MessageCollector(reader)
            try await reader.subscribe("access/#")
            try await Task.sleep(for: .milliseconds(500))
            #expect(inbox.messages.map(\.topic) == ["access/other/locks/lock-1/status"])
            await client.shutdown()
            await reader.shutdown()
        }
    }
}
