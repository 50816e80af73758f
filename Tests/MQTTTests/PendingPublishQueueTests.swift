import Testing

@testable import MQTT

@Suite struct PendingPublishQueueTests {
    let start = ContinuousClock.now

    func message(_ topic: String, expiry: UInt32? = nil) -> MQTTMessage {
        MQTTMessage(
            topic: topic, payload: "x", qos: .atLeastOnce,
            properties: MQTTPublishProperties(messageExpiryInterval: expiry))
    }

    @Test func overflowIsAnErrorNotASilentDrop() throws {
        var queue = PendingPublishQueue(capacity: 2)
        try queue.enqueue(message("a"), at: start)
        try queue.enqueue(message("b"), at: start)
        #expect(throws: MQTTError.outboundQueueFull(capacity: 2)) {
            try queue.enqueue(message("c"), at: start)
        }
        #expect(queue.count == 2)
    }

    @Test func drainKeepsOrderAndAgesExpiry() throws {
        var queue = PendingPublishQueue(capacity: 10)
        try queue.enqueue(message("a", expiry: 10), at: start)
        try queue.enqueue(message("b"), at: start)
        try queue.enqueue(message("c", expiry: 3), at: start)
        try queue.enqueue(message("d", expiry: 5), at: start + .seconds(1))
        // 2.5 s after start: a waited 3 s (rounded up), c has 3 s so it is gone, d waited 2 s.
        let (ready, expired) = queue.drain(at: start + .milliseconds(2500))
        #expect(ready.map(\.message.topic) == ["a", "b", "d"])
        #expect(ready.map(\.message.properties.messageExpiryInterval) == [7, nil, 3])
        #expect(expired.map(\.message.topic) == ["c"])
        #expect(queue.isEmpty)
    }

    @Test func messageExactlyAtItsExpiryIsNotSentLate() throws {
        var queue = PendingPublishQueue(capacity: 1)
        try queue.enqueue(message("a", expiry: 2), at: start)
        let (ready, expired) = queue.drain(at: start + .seconds(2))
        #expect(ready.isEmpty)
        #expect(expired.count == 1)
    }
}
