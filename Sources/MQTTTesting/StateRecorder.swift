import MQTT
import Synchronization

/// Records every connection state a client announces, for assertions.
public final class StateRecorder: Sendable {
    private final class Storage: Sendable {
        let states = Mutex<[MQTTConnectionState]>([])
    }

    private let storage = Storage()
    private let task: Task<Void, Never>

    public init(_ client: MQTTClient) {
        let storage = self.storage
        let stream = client.connectionStates()
        task = Task {
            for await state in stream { storage.states.withLock { $0.append(state) } }
        }
    }

    deinit { task.cancel() }

    public var seen: [MQTTConnectionState] { storage.states.withLock { $0 } }
}
