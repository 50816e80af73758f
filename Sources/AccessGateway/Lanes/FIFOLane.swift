import DequeModule
import Synchronization

/// A bounded first-in-first-out lane with one consumer. `offer` never waits: when the lane is
/// full it refuses, and the caller counts the drop. Events whose every occurrence matters (a
/// door opened, a command result) travel in these.
final class FIFOLane<Element: Sendable>: Sendable {
    private struct State {
        var items = Deque<Element>()
        var waiter: CheckedContinuation<Element?, Never>?
        var closed = false
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// False when the lane is full or closed: the element was not taken.
    func offer(_ element: Element) -> Bool {
        let (accepted, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Element?, Never>?) in
            guard !state.closed else { return (false, nil) }
            if let waiter = state.waiter {
                state.waiter = nil
                return (true, waiter)
            }
            guard state.items.count < capacity else { return (false, nil) }
            state.items.append(element)
            return (true, nil)
        }
        waiter?.resume(returning: element)
        return accepted
    }

    /// The oldest element, waiting for one; nil once the lane is closed and empty.
    func next() async -> Element? {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Element?? in
                if let first = state.items.popFirst() { return .some(first) }
                if state.closed { return .some(nil) }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Takes nothing more; the consumer still gets what is queued, then nil.
    func close() {
        let waiter = state.withLock { state -> CheckedContinuation<Element?, Never>? in
            state.closed = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    var count: Int { state.withLock { $0.items.count } }
}
