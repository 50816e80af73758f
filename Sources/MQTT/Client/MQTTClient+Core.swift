import CMosquitto

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension MQTTClient {
    /// Everything mutable about a client, guarded by one lock (`core`).
    struct Core {
        var machine: ConnectionStateMachine
        var pending: PendingPublishQueue
        var currentState: MQTTConnectionState = .idle
        /// Filters to restore on every connection, in the order they were first made.
        var subscriptions: [String: Subscription] = [:]
        var subscriptionOrder: [String] = []
        /// Callers waiting for the acknowledgement of a message id. A waiter is registered in
        /// the same critical section that sends its packet, and the callback that resolves it
        /// takes the same lock, so an acknowledgement can never beat its waiter.
        var acknowledgementWaiters: [Int32: AcknowledgementWaiter] = [:]
        /// Callers whose QoS > 0 publish is held in `pending`.
        var queuedPublishWaiters: [UInt64: AcknowledgementWaiter] = [:]
        var nextWaiterID: UInt64 = 1
        /// QoS > 0 publishes handed to libmosquitto and not yet acknowledged, by message id. When
        /// the connection drops they go back to `pending` (aged from `sentAt`), and the handle is
        /// made fresh before the next connect, so libmosquitto never resends one itself.
        var unacknowledged: [Int32: Unacknowledged] = [:]
        var nextSendOrder: UInt64 = 0
        /// Set when a connection attempt failed or a connection was lost: the next connect
        /// starts from a fresh libmosquitto handle.
        var needsFreshHandle = false
        /// The broker's Receive Maximum from the last CONNACK (65,535 when it sent none).
        var brokerReceiveMaximum = 65535
        var statistics = Statistics()
        var loopThread: pthread_t?
        var loopExited = false
        var loopExitWaiters: [CheckedContinuation<Void, Never>] = []
    }

    struct Subscription {
        var qos: MQTTQoS
        var options: MQTTSubscribeOptions
    }

    struct Unacknowledged {
        var message: MQTTMessage
        var sentAt: ContinuousClock.Instant
        var order: UInt64
    }

    /// Streams of `connectionStates()`, under their own lock: a stream that ends calls back
    /// into here, possibly while the core lock is held. Lock order: core, then observers.
    struct Observers {
        var continuations: [UInt64: AsyncStream<MQTTConnectionState>.Continuation] = [:]
        var nextID: UInt64 = 0
    }

    enum AcknowledgedOperation: Sendable {
        case subscribe(filter: String)
        case unsubscribe(filter: String)
        case publish(topic: String)

        var name: String {
            switch self {
            case .subscribe(let filter): "subscribe to '\(filter)'"
            case .unsubscribe(let filter): "unsubscribe from '\(filter)'"
            case .publish(let topic): "publish to '\(topic)'"
            }
        }

        /// Maps the broker's reason code (SUBACK granted QoS, PUBACK reason) to the outcome.
        func outcome(reasonCode: Int32) -> Result<Void, MQTTError> {
            guard reasonCode >= 0x80 else { return .success(()) }
            let reason = MQTTError.reasonText(reasonCode)
            switch self {
            case .subscribe(let filter):
                return .failure(.subscriptionRefused(filter: filter, reasonCode: reasonCode, reason: reason))
            case .publish(let topic):
                return .failure(.publishRefused(topic: topic, reasonCode: reasonCode, reason: reason))
            case .unsubscribe:
                return .success(())
            }
        }
    }

    struct AcknowledgementWaiter {
        /// Unique per waiter: message ids wrap, so a timeout only removes its own waiter.
        var token: UInt64
        var operation: AcknowledgedOperation
        var continuation: CheckedContinuation<Result<Void, MQTTError>, Never>
    }
}
