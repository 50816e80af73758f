import Foundation
import MQTT
import MQTTTesting
import Synchronization
import Testing

/// (v1.1) A message sent but not acknowledged when the connection dropped is sent again after the
/// reconnect only while its Message Expiry lasts: libmosquitto on its own would resend it with
/// the expiry it had when first sent, so a lock could receive a command after its `notAfter`.
@Suite struct StaleResendTests {
    @Test func anUnacknowledgedMessageIsSentAgainOnlyWithinItsExpiry() async throws {
        var options = MosquittoBroker.Options()
        options.extraConfiguration = "log_type debug"
        try await withMosquittoBroker(options) { broker in
            let expired = Mutex<[String]>([])
            var configuration = broker.clientConfiguration(clientID: "publisher")
            configuration.expiredHandler = { message in expired.withLock { $0.append(message.topic) } }
            let publisher = try MQTTClient(configuration: configuration, logger: TestLogging.logger("mqtt"))
            try await publisher.connect()
            defer { Task { await publisher.shutdown() } }

            // Frozen, the broker reads nothing and acknowledges nothing.
            broker.pause()
            for (topic, expiry) in [("stale/short", UInt32(1)), ("stale/long", UInt32(60))] {
                var properties = MQTTPublishProperties()
                properties.messageExpiryInterval = expiry
                try publisher.publish(MQTTMessage(topic: topic, payload: "x", properties: properties))
            }
            try await Task.sleep(for: .milliseconds(300))
            broker.kill()
            #expect(await eventually { !publisher.isConnected })
            // Longer than the short message's whole second of expiry.
            try await Task.sleep(for: .milliseconds(1_600))
            let logBefore = broker.log().utf8.count
            try broker.restart()

            let publishes: () -> [Substring] = {
                String(decoding: broker.log().utf8.dropFirst(logBefore), as: UTF8.self)
                    .split(separator: "\n").filter { $0.contains("Received PUBLISH from publisher") }
            }
            #expect(await eventually { publishes().contains { $0.contains("'stale/long'") } })
            #expect(!publishes().contains { $0.contains("'stale/short'") }, "\(publishes())")
            #expect(expired.withLock { $0 } == ["stale/short"])
            let statistics = publisher.statistics
            #expect(statistics.publishesRequeued == 2 && statistics.publishesExpiredInQueue == 1)
        }
    }

    /// libmosquitto's own queue is unbounded; beyond the in-flight limit the client keeps messages
    /// in its bounded, ageing queue and sends them, in order, as acknowledgements come back.
    @Test func beyondTheInflightLimitMessagesWaitInOrderInTheClientsQueue() async throws {
        try await withMosquittoBroker { broker in
            let subscriber = try await broker.connectedClient("subscriber")
            let inbox = MessageCollector(subscriber)
            try await subscriber.subscribe("flow/#")
            let publisher = try await broker.connectedClient("publisher") { $0.maximumInflight = 5 }
            broker.pause()
            for index in 0..<50 {
                try publisher.publish(MQTTMessage(topic: "flow/\(index)", payload: "x"))
            }
            #expect(publisher.statistics.publishesQueued == 45)
            broker.resume()
            #expect(await eventually { inbox.messages.count == 50 })
            #expect(inbox.messages.map(\.topic) == (0..<50).map { "flow/\($0)" })
            await publisher.shutdown()
            await subscriber.shutdown()
        }
    }
}
