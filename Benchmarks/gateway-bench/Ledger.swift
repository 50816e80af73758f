import Dispatch
import Synchronization

/// Send times and latencies of one measured phase, shared by the sending task and the receiving
/// task (which runs on the MQTT client's stream). Sequence numbers index fixed arrays, so
/// recording is O(1) under the lock.
final class Ledger: Sendable {
    struct State {
        var sentAtNs: [UInt64]
        var latencyNs: [UInt64] = []
        var completed = 0
        var sent = 0
        var duplicates = 0
        /// The closed loop's waiter: resumed when `waitingFor` completes (or times out).
        var waiter: CheckedContinuation<Void, Never>?
        var waitingFor = -1
        /// The saturation sender's waiter: resumed when fewer than `slotLimit` are in flight.
        var slotWaiter: CheckedContinuation<Void, Never>?
        var slotLimit = 0
    }

    let state: Mutex<State>
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        state = Mutex(State(sentAtNs: Array(repeating: 0, count: capacity)))
        state.withLock { $0.latencyNs.reserveCapacity(capacity) }
    }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Records that `sequence` was (or was due to be) sent at `atNs`.
    func markSent(_ sequence: Int, atNs: UInt64) {
        state.withLock {
            $0.sentAtNs[sequence] = atNs
            $0.sent += 1
        }
    }

    /// The response for `sequence` arrived now.
    func complete(_ sequence: Int) {
        let now = Self.now()
        let resume: [CheckedContinuation<Void, Never>] = state.withLock { state in
            guard sequence >= 0, sequence < capacity else { return [] }
            let sentAt = state.sentAtNs[sequence]
            // Unknown, or seen before (a late duplicate): counted, not measured.
            guard sentAt != 0 else {
                state.duplicates += 1
                return []
            }
            state.sentAtNs[sequence] = 0
            state.latencyNs.append(now &- sentAt)
            state.completed += 1
            var ready: [CheckedContinuation<Void, Never>] = []
            if state.waitingFor == sequence, let waiter = state.waiter {
                state.waiter = nil
                state.waitingFor = -1
                ready.append(waiter)
            }
            if let slot = state.slotWaiter, state.sent - state.completed < state.slotLimit {
                state.slotWaiter = nil
                ready.append(slot)
            }
            return ready
        }
        for continuation in resume { continuation.resume() }
    }

    /// Waits until `sequence` completes or `timeout` passes (a lost response).
    func wait(for sequence: Int, timeout: Duration) async {
        let timer = Task {
            try? await Task.sleep(for: timeout)
            let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
                guard state.waitingFor == sequence else { return nil }
                defer {
                    state.waiter = nil
                    state.waitingFor = -1
                }
                return state.waiter
            }
            waiter?.resume()
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                if state.sentAtNs[sequence] == 0 { return true }
                state.waiter = continuation
                state.waitingFor = sequence
                return false
            }
            if done { continuation.resume() }
        }
        timer.cancel()
    }

    /// Waits until fewer than `limit` requests are in flight.
    func waitForSlot(limit: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                if state.sent - state.completed < limit { return true }
                state.slotLimit = limit
                state.slotWaiter = continuation
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// Releases a sender waiting for a slot (at the end of the phase, when responses stopped).
    func releaseWaiters() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            defer {
                state.slotWaiter = nil
                state.waiter = nil
                state.waitingFor = -1
            }
            return [state.slotWaiter, state.waiter].compactMap { $0 }
        }
        for waiter in waiters { waiter.resume() }
    }

    var completed: Int { state.withLock { $0.completed } }
    var sent: Int { state.withLock { $0.sent } }
    var latencies: [UInt64] { state.withLock { $0.latencyNs } }
}
