import AccessGateway
import MQTT
import Synchronization

/// A `MessagePublisher` that keeps everything the services publish, in publish order, so an
/// in-process test can read what would have gone to the broker and wait for it.
public final class RecordingPublisher: MessagePublisher {
    private let recorded = Mutex<[MQTTMessage]>([])
    private let counts = Mutex<[String: Int]>([:])

    public init() {}

    public func publish(_ message: MQTTMessage) throws {
        recorded.withLock { $0.append(message) }
        counts.withLock { $0[message.topic, default: 0] += 1 }
    }

    /// How many messages were published on `topic`.
    public func count(on topic: String) -> Int { counts.withLock { $0[topic] ?? 0 } }

    /// What the publisher reports as waiting to be sent (a test sets it to play a congested
    /// connection); 0 unless set.
    public let simulatedBacklog = Atomic<Int>(0)

    public var outboundBacklog: Int { simulatedBacklog.load(ordering: .relaxed) }

    public func publishAcknowledged(_ message: MQTTMessage) async throws {
        try publish(message)
    }

    /// Everything published so far, in order.
    public var messages: [MQTTMessage] { recorded.withLock { $0 } }

    public func messages(on topic: String) -> [MQTTMessage] {
        recorded.withLock { $0.filter { $0.topic == topic } }
    }

    /// The first message (already published or still to come) that matches, or nil after `timeout`
    /// (generous: on a loaded 2-core machine the suite's other tests can hold the cooperative
    /// threads for seconds; a passing test does not wait for it).
    public func first(
        timeout: Duration = .seconds(30), where matches: @Sendable (MQTTMessage) -> Bool
    ) async -> MQTTMessage? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let found = recorded.withLock({ $0.first(where: matches) }) { return found }
            guard ContinuousClock.now < deadline else { return nil }
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Waits until at least `count` messages on `topic` were published; false after `timeout`.
    public func waitFor(_ count: Int, on topic: String, timeout: Duration = .seconds(30)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while self.count(on: topic) < count {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return true
    }
}
