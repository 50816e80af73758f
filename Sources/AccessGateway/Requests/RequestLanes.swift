import AccessProtocol
import DequeModule
import MQTT
import Synchronization

/// The request lanes shared by the router (which offers, on the MQTT network thread, never
/// waiting) and the request workers (which take, decide, publish and finish).
final class RequestLanes: Sendable {
    struct Request: Sendable {
        var message: MQTTMessage
        /// Monotonic nanoseconds when the router took it (time in the lane).
        var receivedNs: UInt64
        /// A dialect reader's code or card (device profiles); nil for a contract request.
        var profileKind: ProfileInbound? = nil
    }

    typealias Work = (lockID: String, item: Request)

    private struct State {
        var queues: PerLockQueues<Request>
        var workers = Deque<CheckedContinuation<Work?, Never>>()
        var closed = false
    }

    private let state: Mutex<State>

    init(perLockCapacity: Int, totalCapacity: Int) {
        state = Mutex(State(queues: PerLockQueues(perLockCapacity: perLockCapacity, totalCapacity: totalCapacity)))
    }

    func offer(_ request: Request, lockID: String) -> PerLockQueues<Request>.Offer {
        let (offer, handOver) = state.withLock {
            state -> (PerLockQueues<Request>.Offer, (CheckedContinuation<Work?, Never>, Work)?) in
            guard !state.closed else { return (.full, nil) }
            let offer = state.queues.enqueue(request, lockID: lockID)
            let joined: Bool
            switch offer {
            case .queued(let ready), .queuedEvicting(let ready, _, _): joined = ready
            case .lockFull, .full: joined = false
            }
            guard joined, !state.workers.isEmpty, let work = state.queues.take() else {
                return (offer, nil)
            }
            return (offer, (state.workers.removeFirst(), work))
        }
        if let (worker, work) = handOver { worker.resume(returning: work) }
        return offer
    }

    /// The next request of the next lock in the round; nil once closed and drained.
    func next() async -> Work? {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Work?? in
                if let work = state.queues.take() { return .some(work) }
                if state.closed { return .some(nil) }
                state.workers.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    func finish(lockID: String) {
        let handOver = state.withLock { state -> (CheckedContinuation<Work?, Never>, Work)? in
            state.queues.finish(lockID: lockID)
            guard !state.workers.isEmpty, let work = state.queues.take() else { return nil }
            return (state.workers.removeFirst(), work)
        }
        if let (worker, work) = handOver { worker.resume(returning: work) }
    }

    /// Takes nothing more; queued requests are still decided, then every worker gets nil.
    func close() {
        let idle = state.withLock { state -> [CheckedContinuation<Work?, Never>] in
            state.closed = true
            // Workers wait only when nothing is ready, so every waiting one can stop.
            defer { state.workers.removeAll() }
            return Array(state.workers)
        }
        for worker in idle { worker.resume(returning: nil) }
    }
}
