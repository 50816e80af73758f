import MQTT
import Synchronization

/// Lets a client's message handler reach a receiver made after the client (the receiver owns
/// the client). Until one is set, messages are counted and dropped.
final class MessageHandlerSlot: Sendable {
    private let target = Mutex<(@Sendable (MQTTMessage) -> Void)?>(nil)

    func set(_ handler: @escaping @Sendable (MQTTMessage) -> Void) {
        target.withLock { $0 = handler }
    }

    func deliver(_ message: MQTTMessage) {
        target.withLock { $0 }?(message)
    }
}
