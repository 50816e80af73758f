import DequeModule
import Synchronization

/// A lane where only the latest value per key matters (a device's status): a newer value
/// replaces the queued one in place, so a device that floods its status costs one slot. Keys are
/// served in the order they first became pending; at most `capacity` keys wait. One consumer.
final class CoalescingLane<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    enum Offer: Equatable {
        case queued
        /// Replaced a value still waiting for the same key.
        case coalesced
        /// Refused: `capacity` other keys are waiting, or the lane is closed.
        case refused
    }

    private struct State {
        var values: [Key: Value] = [:]
        var order = Deque<Key>()
        var waiter: CheckedContinuation<(Key, Value)?, Never>?
        var closed = false
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    func offer(_ value: Value, for key: Key) -> Offer {
        let (offer, waiter) = state.withLock { state -> (Offer, CheckedContinuation<(Key, Value)?, Never>?) in
            guard !state.closed else { return (.refused, nil) }
            if let waiter = state.waiter {
                state.waiter = nil
                return (.queued, waiter)
            }
            if state.values.updateValue(value, forKey: key) != nil { return (.coalesced, nil) }
            guard state.order.count < capacity else {
                state.values[key] = nil
                return (.refused, nil)
            }
            state.order.append(key)
            return (.queued, nil)
        }
        waiter?.resume(returning: (key, value))
        return offer
    }

    /// The next key with its latest value; nil once closed and empty.
    func next() async -> (Key, Value)? {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> (Key, Value)?? in
                while let key = state.order.popFirst() {
                    if let value = state.values.removeValue(forKey: key) { return .some((key, value)) }
                }
                if state.closed { return .some(nil) }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    func close() {
        let waiter = state.withLock { state -> CheckedContinuation<(Key, Value)?, Never>? in
            state.closed = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    var count: Int { state.withLock { $0.order.count } }
}
