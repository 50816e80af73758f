import Synchronization

/// Where the device connection's router leaves the audit head retained on the broker, for the
/// start-up check (`AuditHeadCheck`): the check reads it on the device connection itself, since
/// a site broker that takes the client id from the certificate would let a second connection
/// with the same identity take the first one over.
final class AuditHeadInbox: Sendable {
    private struct State {
        var payload: [UInt8]?
        var waiter: CheckedContinuation<[UInt8]?, Never>?
    }

    private let state = Mutex(State())

    /// Called on the network thread; keeps the first payload only.
    func deliver(_ payload: [UInt8]) {
        let waiter = state.withLock { state -> CheckedContinuation<[UInt8]?, Never>? in
            guard state.payload == nil else { return nil }
            state.payload = payload
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: payload)
    }

    /// The retained head, or nil if none arrives within `timeout` (none was ever published).
    func wait(timeout: Duration) async -> [UInt8]? {
        let timer = Task {
            try? await Task.sleep(for: timeout)
            let waiter = state.withLock { state -> CheckedContinuation<[UInt8]?, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: nil)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> [UInt8]?? in
                if let payload = state.payload { return .some(payload) }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
