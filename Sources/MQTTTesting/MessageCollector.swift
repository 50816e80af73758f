import MQTT
import Synchronization

/// Drains an AsyncSequence in the background and keeps everything it yielded, so tests can wait
/// for what arrived without owning the iteration.
public final class StreamRecorder<Element: Sendable>: Sendable {
    private final class Storage: Sendable {
        let elements = Mutex<[Element]>([])
    }

    private let storage = Storage()
    private let task: Task<Void, Never>

    public init(_ stream: AsyncStream<Element>) {
        let storage = self.storage
        task = Task {
            for await element in stream { storage.elements.withLock { $0.append(element) } }
        }
    }

    deinit { task.cancel() }

    /// Everything recorded so far, in arrival order.
    public var recorded: [Element] { storage.elements.withLock { $0 } }

    /// Waits until at least `count` elements arrived (or `timeout` passed) and returns them.
    @discardableResult
    public func waitFor(count: Int, timeout: Duration = .seconds(5)) async -> [Element] {
        _ = await eventually(timeout: timeout, every: .milliseconds(5)) { recorded.count >= count }
        return recorded
    }

    /// Waits for the first element matching `predicate`, among those recorded from position
    /// `since` on (0: all of them; `recorded.count` before an action: only what follows it).
    public func first(
        since: Int = 0, timeout: Duration = .seconds(5), where predicate: (Element) -> Bool
    ) async -> Element? {
        _ = await eventually(timeout: timeout, every: .milliseconds(5)) {
            recorded.dropFirst(since).contains(where: predicate)
        }
        return recorded.dropFirst(since).first(where: predicate)
    }
}

/// Records a client's inbound messages.
public typealias MessageCollector = StreamRecorder<MQTTMessage>

extension StreamRecorder where Element == MQTTMessage {
    public convenience init(_ client: MQTTClient) {
        self.init(client.messages)
    }

    public var messages: [MQTTMessage] { recorded }

    /// Waits for the first message on `topic`.
    public func first(on topic: String, timeout: Duration = .seconds(5)) async -> MQTTMessage? {
        await first(timeout: timeout) { $0.topic == topic }
    }
}

/// Records every connection state a client announces.
public typealias StateRecorder = StreamRecorder<MQTTConnectionState>

extension StreamRecorder where Element == MQTTConnectionState {
    public convenience init(_ client: MQTTClient) {
        self.init(client.connectionStates())
    }

    public var seen: [MQTTConnectionState] { recorded }
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
