import Synchronization
import Testing

@testable import AccessGateway

@Suite struct RequestSlotsTests {
    final class Flag: Sendable {
        let value = Mutex(false)
        var isSet: Bool { value.withLock { $0 } }
    }

    @Test func pastTheLimitTheDispatcherWaitsUntilASlotIsReleased() async throws {
        let slots = RequestSlots(limit: 2)
        await slots.acquire()
        await slots.acquire()
        let third = Flag()
        let waiting = Task {
            await slots.acquire()
            third.value.withLock { $0 = true }
        }
        try await Task.sleep(for: .milliseconds(100))
        #expect(!third.isSet, "a third request ran past the limit")
        slots.release()
        await waiting.value
        #expect(third.isSet && slots.inUse == 2)
        slots.release()
        slots.release()
        #expect(slots.inUse == 0)
    }
}
