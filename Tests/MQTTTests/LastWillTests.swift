import CMosquitto
import MQTTTesting
import Testing

@testable import MQTT

#if canImport(Glibc)
    import Glibc
#endif

/// The Last Will, as the broker publishes it when a device vanishes.
@Suite struct LastWillTests {
    @Test func willIsPublishedWhenTheConnectionDropsWithoutDisconnect() async throws {
        try await withMosquittoBroker { broker in
            let observer = try await broker.connectedClient("observer")
            let inbox = MessageCollector(observer)
            try await observer.subscribe("access/s1/locks/+/status")

            var configuration = broker.clientConfiguration(clientID: "lock-7")
            configuration.will = MQTTMessage(
                topic: "access/s1/locks/lock-7/status", payload: #"{"online":false}"#, retain: true,
                properties: MQTTPublishProperties(userProperties: [MQTTUserProperty("reason", "will")]))
            let lock = try MQTTClient(configuration: configuration, logger: TestLogging.logger("mqtt"))
            try await lock.connect()

            // Cut the TCP connection under the client, as a power cut or a lost radio link would:
            // the broker sees no DISCONNECT and publishes the will.
            let socket = mosquitto_socket(lock.handle.pointer)
            try #require(socket >= 0)
            Glibc.shutdown(socket, Int32(SHUT_RDWR))

            let will = await inbox.first(on: "access/s1/locks/lock-7/status", timeout: .seconds(10))
            #expect(will?.payloadString == #"{"online":false}"#)
            #expect(will?.properties.userProperties == [MQTTUserProperty("reason", "will")])
            // The lock's client notices the loss and comes back by itself.
            #expect(await eventually(timeout: .seconds(10)) { lock.isConnected && lock.statistics.connects == 2 })
            await lock.shutdown()
            await observer.shutdown()
        }
    }

    @Test func cleanShutdownDoesNotPublishTheWill() async throws {
        try await withMosquittoBroker { broker in
            let observer = try await broker.connectedClient("observer")
            let inbox = MessageCollector(observer)
            try await observer.subscribe("will/#")
            var configuration = broker.clientConfiguration(clientID: "polite")
            configuration.will = MQTTMessage(topic: "will/polite", payload: "gone")
            let polite = try MQTTClient(configuration: configuration, logger: TestLogging.logger("mqtt"))
            try await polite.connect()
            await polite.shutdown()
            // Control: the observer still receives what is published, so silence means no will.
            let control = try await broker.connectedClient("control")
            try await control.publishAcknowledged(MQTTMessage(topic: "will/control", payload: "here"))
            #expect(await inbox.first(on: "will/control") != nil)
            #expect(!inbox.messages.contains { $0.topic == "will/polite" })
            await control.shutdown()
            await observer.shutdown()
        }
    }
}
