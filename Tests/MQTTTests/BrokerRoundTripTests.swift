import MQTT
import MQTTTesting
import Testing

/// The client against a real mosquitto: publish/subscribe, v5 properties, retained expiry,
/// shared subscriptions and the outbound queue.
@Suite struct BrokerRoundTripTests {
    @Test(arguments: MQTTQoS.allCases)
    func publishSubscribeRoundTrip(qos: MQTTQoS) async throws {
        try await withMosquittoBroker { broker in
            let subscriber = try await broker.connectedClient("sub")
            let publisher = try await broker.connectedClient("pub")
            let inbox = MessageCollector(subscriber)
            try await subscriber.subscribe("site/+/echo", qos: qos)
            for index in 0..<20 {
                try await publisher.publishAcknowledged(
                    MQTTMessage(topic: "site/\(index)/echo", payload: "message \(index)", qos: qos))
            }
            let received = await inbox.waitFor(count: 20)
            #expect(received.map(\.payloadString) == (0..<20).map { "message \($0)" })
            #expect(received.allSatisfy { $0.qos == qos })
            await publisher.shutdown()
            await subscriber.shutdown()
        }
    }

    @Test func version5PropertiesSurviveARoundTrip() async throws {
        try await withMosquittoBroker { broker in
            let subscriber = try await broker.connectedClient("sub")
            let publisher = try await broker.connectedClient("pub")
            let inbox = MessageCollector(subscriber)
            try await subscriber.subscribe("locks/l-1/request")
            let properties = MQTTPublishProperties(
                messageExpiryInterval: 120,
                responseTopic: "locks/l-1/reply",
                correlationData: [0, 1, 2, 0xFF, 0x80],
                contentType: "application/json",
                userProperties: [MQTTUserProperty("trace", "abc"), MQTTUserProperty("trace", "def")])
            try await publisher.publishAcknowledged(
                MQTTMessage(topic: "locks/l-1/request", payload: "{}", properties: properties))
            let message = try #require(await inbox.first(on: "locks/l-1/request"))
            #expect(message.properties.responseTopic == "locks/l-1/reply")
            #expect(message.properties.correlationData == [0, 1, 2, 0xFF, 0x80])
            #expect(message.properties.contentType == "application/json")
            #expect(message.properties.userProperties == properties.userProperties)
            // The broker forwards the interval minus the time it held the message.
            let expiry = try #require(message.properties.messageExpiryInterval)
            #expect((119...120).contains(expiry))
            await publisher.shutdown()
            await subscriber.shutdown()
        }
    }

    @Test func retainedMessageWithExpiryIsGoneAfterItExpires() async throws {
        try await withMosquittoBroker { broker in
            let publisher = try await broker.connectedClient("pub")
            // Long enough that a subscriber on a loaded CI machine still arrives before it expires:
            // with 6 s, a full suite on two cores once took longer than that to connect and subscribe.
            let published = ContinuousClock.now
            try await publisher.publishAcknowledged(
                MQTTMessage(
                    topic: "status/short", payload: "expiring", retain: true,
                    properties: MQTTPublishProperties(messageExpiryInterval: 20)))
            try await publisher.publishAcknowledged(
                MQTTMessage(topic: "status/long", payload: "staying", retain: true))

            // A subscriber arriving at once still gets it: the test can tell "gone" from "never".
            let early = try await broker.connectedClient("early")
            let earlyInbox = MessageCollector(early)
            try await early.subscribe("status/#")
            #expect(await earlyInbox.waitFor(count: 2).count == 2)
            await early.shutdown()

            try await Task.sleep(until: published + .seconds(21))
            let late = try await broker.connectedClient("late")
            let lateInbox = MessageCollector(late)
            try await late.subscribe("status/#")
            #expect(await lateInbox.first(on: "status/long", timeout: .seconds(2))?.retain == true)
            try await Task.sleep(for: .milliseconds(300))
            #expect(lateInbox.messages.map(\.topic) == ["status/long"])
            await late.shutdown()
            await publisher.shutdown()
        }
    }

    @Test func sharedSubscriptionSplitsTheLoadAndDeliversEachMessageOnce() async throws {
        try await withMosquittoBroker { broker in
            let first = try await broker.connectedClient("gw-a")
            let second = try await broker.connectedClient("gw-b")
            let publisher = try await broker.connectedClient("lock")
            let firstInbox = MessageCollector(first)
            let secondInbox = MessageCollector(second)
            try await first.subscribe("$share/gateways/access/s/locks/+/request")
            try await second.subscribe("$share/gateways/access/s/locks/+/request")
            let count = 200
            for index in 0..<count {
                try publisher.publish(
                    MQTTMessage(topic: "access/s/locks/l-\(index % 7)/request", payload: "\(index)"))
            }
            let delivered = await eventually(timeout: .seconds(10)) {
                firstInbox.messages.count + secondInbox.messages.count >= count
            }
            #expect(delivered)
            try await Task.sleep(for: .milliseconds(200))
            let payloads = (firstInbox.messages + secondInbox.messages).compactMap(\.payloadString)
            #expect(payloads.count == count)
            #expect(Set(payloads) == Set((0..<count).map(String.init)))
            #expect(firstInbox.messages.count > 0)
            #expect(secondInbox.messages.count > 0)
            for client in [first, second, publisher] { await client.shutdown() }
        }
    }

    @Test func publishesWhileDisconnectedAreHeldBoundedAndAged() async throws {
        try await withMosquittoBroker { broker in
            var configuration = broker.clientConfiguration(clientID: "held")
            configuration.outboundQueueCapacity = 3
            // Not connected (nothing listens where this one connects, so it cannot have connected
            // by the time it publishes): QoS 0 is refused, QoS 1 is held up to the capacity.
            var nowhere = configuration
            nowhere.port = try LoopbackPort.free()
            let client = try MQTTClient(configuration: nowhere, logger: TestLogging.logger("mqtt"))
            try client.start()
            #expect(throws: MQTTError.notConnected(operation: "publish to 'a/b'")) {
                try client.publish(MQTTMessage(topic: "a/b", payload: "q0", qos: .atMostOnce))
            }
            await client.shutdown()

            // The client listens to its own topics: on reconnect it re-subscribes before it sends
            // what it held, on the same connection, so it must see all of it come back.
            let offline = try MQTTClient(configuration: configuration, logger: TestLogging.logger("mqtt"))
            try await offline.connect()
            let inbox = MessageCollector(offline)
            try await offline.subscribe("held/#")
            broker.kill()
            #expect(await eventually { !offline.isConnected })
            for index in 0..<3 {
                try offline.publish(MQTTMessage(topic: "held/\(index)", payload: "\(index)"))
            }
            #expect(throws: MQTTError.outboundQueueFull(capacity: 3)) {
                try offline.publish(MQTTMessage(topic: "held/overflow", payload: "x"))
            }
            try broker.restart()
            #expect(await eventually(timeout: .seconds(10)) { offline.isConnected })
            let received = await inbox.waitFor(count: 3, timeout: .seconds(10))
            #expect(received.map(\.topic) == ["held/0", "held/1", "held/2"])
            #expect(offline.statistics.publishesQueued == 3)
            await offline.shutdown()
        }
    }

    @Test func heldMessageWhoseExpiryRunsOutIsDroppedNotSentLate() async throws {
        try await withMosquittoBroker { broker in
            let client = try await broker.connectedClient("commands")
            let inbox = MessageCollector(client)
            try await client.subscribe("cmd/#")
            broker.kill()
            #expect(await eventually { !client.isConnected })
            let stale = Task {
                try await client.publishAcknowledged(
                    MQTTMessage(
                        topic: "cmd/unlock", payload: "stale",
                        properties: MQTTPublishProperties(messageExpiryInterval: 1)))
            }
            try client.publish(MQTTMessage(topic: "cmd/fresh", payload: "fresh"))
            try await Task.sleep(for: .milliseconds(1500))
            try broker.restart()
            let result = await stale.result
            #expect(throws: MQTTError.expiredBeforeSending(topic: "cmd/unlock")) { try result.get() }
            #expect(await inbox.first(on: "cmd/fresh", timeout: .seconds(10)) != nil)
            #expect(!inbox.messages.contains { $0.topic == "cmd/unlock" })
            #expect(client.statistics.publishesExpiredInQueue == 1)
            await client.shutdown()
        }
    }
}
