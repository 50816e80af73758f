import MQTT
import Synchronization

/// Lets a client's message handler reach a receiver made after the client (the receiver owns
/// the client). Until one is set, messages are dropped.
///
/// The handler is kept in a class: a closure kept directly in a `Mutex` and read through
/// `withLock` gets re-wrapped in a pair of reabstraction thunks at every access, so each message
/// would have run through a longer chain of them than the last (measured: 91 % of the network
/// thread after a few seconds of a flood).
final class MessageHandlerSlot: Sendable {
    private final class Box: Sendable {
        let handler: @Sendable (MQTTMessage) -> Void
        init(_ handler: @escaping @Sendable (MQTTMessage) -> Void) { self.handler = handler }
    }

    private let target = Mutex<Box?>(nil)

    func set(_ handler: @escaping @Sendable (MQTTMessage) -> Void) {
        let box = Box(handler)
        target.withLock { $0 = box }
    }

    func deliver(_ message: MQTTMessage) {
        target.withLock { $0 }?.handler(message)
    }
}
