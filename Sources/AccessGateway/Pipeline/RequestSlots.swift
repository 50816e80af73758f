import Synchronization

/// A bound on the requests being decided at once. Past it, the dispatcher waits and requests
/// queue in the MQTT client's inbound buffer (a few hundred bytes each) instead of as tasks
/// that all compete for the cores, the store and the audit writer: under overload the gateway
/// keeps its memory and its service order instead of slowing every request down together.
final class RequestSlots: Sendable {
    private struct State {
        var used = 0
        var waiter: CheckedContinuation<Void, Never>?
    }

    let limit: Int
    private let state = Mutex(State())

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Takes a slot, waiting for one if all are taken. One caller (the dispatcher) waits at a time.
    func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { state -> Bool in
                if state.used < limit {
                    state.used += 1
                    return true
                }
                state.waiter = continuation
                return false
            }
            if granted { continuation.resume() }
        }
    }

    func release() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            // A waiting dispatcher takes the freed slot over directly.
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.used -= 1
            return nil
        }
        waiter?.resume()
    }

    var inUse: Int { state.withLock { $0.used } }
}
