import MQTT
import Synchronization
import Testing

@testable import AccessGateway

/// The handler slot between a client's network thread and the router.
@Suite struct MessageHandlerSlotTests {
    /// A closure kept directly in a Mutex grew a chain of reabstraction thunks with every
    /// delivery: a million deliveries overflowed the stack. Kept in a class, each costs the same.
    @Test func aMillionDeliveriesReachTheHandler() {
        let slot = MessageHandlerSlot()
        let count = Atomic<Int>(0)
        slot.set { _ in count.add(1, ordering: .relaxed) }
        let message = MQTTMessage(topic: "t", payload: [UInt8]())
        for _ in 0..<1_000_000 { slot.deliver(message) }
        #expect(count.load(ordering: .relaxed) == 1_000_000)
    }
}
