import MQTT
import Synchronization

/// Drains a client's `messages` in the background so tests can wait for what arrived.
public final class MessageCollector: Sendable {
    private final class Storage: Sendable {
        let messages = Mutex<[MQTTMessage]>([])
    }

    private let storage = Storage()
    private let task: Task<Void, Never>

    public init(_ client: MQTTClient) {
        let storage = self.storage
        let stream = client.messages
        task = Task {
            for await message in stream {
                storage.messages.withLock { $0.append(message) }
            }
        }
    }

    deinit { task.cancel() }

    public var messages: [MQTTMessage] { storage.messages.withLock { $0 } }

    /// Waits until at least `count` messages arrived (or `timeout` passed) and returns them.
    @discardableResult
    public func waitFor(count: Int, timeout: Duration = .seconds(5)) async -> [MQTTMessage] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let snapshot = messages
            if snapshot.count >= count { return snapshot }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return messages
    }

    /// Waits for the first message on `topic`.
    public func first(on topic: String, timeout: Duration = .seconds(5)) async -> MQTTMessage? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let match = messages.first(where: { $0.topic == topic }) { return match }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return messages.first(where: { $0.topic == topic })
    }
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
public func eventually(
    timeout: Duration = .seconds(5), every interval: Duration = .milliseconds(10), _ condition: () async -> Bool
) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return await condition()
}
