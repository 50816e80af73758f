import Foundation
import MQTT
import MQTTTesting
import Testing

/// A client with a Session Expiry Interval keeps its broker session: what is published while it
/// is away is delivered when it comes back (the booking feed's connection relies on it).
@Suite struct SessionPersistenceTests {
    func client(_ broker: MosquittoBroker, expiry: UInt32?) throws -> MQTTClient {
        var configuration = broker.clientConfiguration(clientID: "persistent-1")
        configuration.sessionExpiryInterval = expiry
        return try MQTTClient(configuration: configuration, logger: TestLogging.logger("mqtt"))
    }

    func missedWhileAway(expiry: UInt32?) async throws -> Bool {
        try await withMosquittoBroker { broker in
            let first = try client(broker, expiry: expiry)
            try await first.connect()
            try await first.subscribe("feed/q", qos: .atLeastOnce)
            await first.shutdown()
            let publisher = try await broker.connectedClient("publisher")
            try await publisher.publishAcknowledged(MQTTMessage(topic: "feed/q", payload: "while-away"))
            await publisher.shutdown()
            let again = try client(broker, expiry: expiry)
            let inbox = MessageCollector(again)
            try await again.connect()
            let arrived = await inbox.first(on: "feed/q", timeout: .seconds(3)) != nil
            await again.shutdown()
            return arrived
        }
    }

    @Test func aPersistentSessionReceivesWhatWasPublishedWhileItWasAway() async throws {
        #expect(try await missedWhileAway(expiry: 300))
    }

    @Test func aCleanSessionDoesNot() async throws {
        #expect(try await !missedWhileAway(expiry: nil))
    }
}
