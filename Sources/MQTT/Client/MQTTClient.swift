import CMosquitto
import Dispatch
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An MQTT v5 client over libmosquitto, shared by the gateway, the CLI and the simulators.
///
/// One dedicated thread runs libmosquitto's network loop (socket I/O, keepalive, reconnect);
/// its callbacks only copy what arrived and hand it on without blocking. Publishing, subscribing
/// and observing are safe from any thread or task.
///
/// ```swift
/// let client = try MQTTClient(configuration: .init(clientID: "gw-1"))
/// try await client.connect()
/// try await client.subscribe("access/site-1/locks/+/request", qos: .atLeastOnce)
/// for await message in client.messages { ... }
/// await client.shutdown()
/// ```
///
/// Lifecycle: `connect()` makes one attempt and throws if it fails; `start()` keeps trying with
/// backoff. Either way a lost connection is re-established automatically and subscriptions are
/// restored. Call `shutdown()` when done: it disconnects, stops and joins the loop thread and
/// frees the handle.
public final class MQTTClient: Sendable {
    public let configuration: Configuration
    /// Every inbound PUBLISH, in arrival order. Single consumer. Empty when the configuration
    /// hands messages to a `messageHandler` instead.
    public let messages: AsyncStream<MQTTMessage>

    let handle: MosquittoHandle
    let core: Mutex<Core>
    let observers = Mutex(Observers())
    /// Latest error-level line libmosquitto logged (OpenSSL's reason for a TLS failure).
    let lastLibraryError = Mutex<String?>(nil)
    let inbound: AsyncStream<MQTTMessage>.Continuation
    let receivedCount = Atomic<Int>(0)
    let droppedCount = Atomic<Int>(0)
    /// Cuts a backoff sleep short on shutdown.
    let wakeUp = DispatchSemaphore(value: 0)
    let logger: Logger

    public init(configuration: Configuration, logger: Logger = Logger(label: "mqtt")) throws(MQTTError) {
        guard configuration.keepAliveSeconds >= 5 else {
            throw .invalidArgument("keepAliveSeconds must be at least 5, got \(configuration.keepAliveSeconds)")
        }
        guard (1...65535).contains(configuration.port) else {
            throw .invalidArgument("port must be 1...65535, got \(configuration.port)")
        }
        guard !configuration.host.isEmpty else { throw .invalidArgument("host is empty") }
        guard (1...65535).contains(configuration.receiveMaximum) else {
            throw .invalidArgument("receiveMaximum must be 1...65535, got \(configuration.receiveMaximum)")
        }
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "mqtt.client"] = "\(configuration.clientID)"
        self.logger = logger
        (messages, inbound) = AsyncStream.makeStream(
            of: MQTTMessage.self, bufferingPolicy: .bufferingOldest(max(1, configuration.inboundBufferCapacity)))
        handle = try MosquittoHandle(
            clientID: configuration.clientID, cleanStart: configuration.sessionExpiryInterval == nil)
        core = Mutex(
            Core(
                machine: ConnectionStateMachine(
                    backoff: configuration.reconnectBackoff,
                    connectTimeout: configuration.connectTimeout,
                    retry: true),
                pending: PendingPublishQueue(capacity: configuration.outboundQueueCapacity)))
        try configureHandle()
    }

    // MARK: Connecting

    /// Connects once: returns when the broker accepted the connection, throws the reason when
    /// this first attempt fails (bad host or port, TLS, refused CONNACK, timeout). After a
    /// successful connect, later losses are repaired automatically.
    public func connect() async throws(MQTTError) {
        let states = connectionStates()
        try launch(retry: false)
        for await state in states {
            switch state {
            case .connected:
                return
            case .disconnected(let reason, _):
                await waitForLoopExit()
                joinLoopThread()
                finishEverything()
                throw reason
            case .shutDown:
                throw .shutDown
            case .idle, .connecting:
                continue
            }
        }
        throw .shutDown
    }

    /// Starts connecting in the background and keeps retrying with backoff until connected
    /// (or shut down). Observe progress with `connectionStates()`.
    public func start() throws(MQTTError) {
        try launch(retry: true)
    }

    /// The current state, then every change. Each call gets its own stream.
    public func connectionStates() -> AsyncStream<MQTTConnectionState> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: MQTTConnectionState.self, bufferingPolicy: .bufferingNewest(64))
        let current = core.withLock { core -> MQTTConnectionState in
            if core.currentState != .shutDown {
                observers.withLock { observers in
                    let id = observers.nextID
                    observers.nextID += 1
                    observers.continuations[id] = continuation
                    continuation.onTermination = { [weak self] _ in
                        _ = self?.observers.withLock { $0.continuations.removeValue(forKey: id) }
                    }
                }
            }
            continuation.yield(core.currentState)
            return core.currentState
        }
        if current == .shutDown { continuation.finish() }
        return stream
    }

    public var connectionState: MQTTConnectionState {
        core.withLock { $0.currentState }
    }

    public var isConnected: Bool {
        core.withLock { $0.machine.isConnected }
    }

    public var statistics: Statistics {
        var statistics = core.withLock { core in
            var statistics = core.statistics
            statistics.outboundBacklog = core.pending.count
            return statistics
        }
        statistics.messagesReceived = receivedCount.load(ordering: .relaxed)
        statistics.inboundDropped = droppedCount.load(ordering: .relaxed)
        return statistics
    }

    /// Disconnects cleanly (DISCONNECT, so no Last Will), stops and joins the network thread,
    /// and fails every operation still waiting. Idempotent.
    public func shutdown() async {
        let started = core.withLock { core -> Bool in
            apply(core.machine.shutdownRequested(at: .now), core: &core)
            return core.loopThread != nil
        }
        wakeUp.signal()
        if started {
            await waitForLoopExit()
            joinLoopThread()
        }
        finishEverything()
    }

    // MARK: Subscribing

    /// Subscribes and waits for the broker's SUBACK; the subscription (with its options) is
    /// restored after every reconnect. While disconnected it is recorded and sent on the next connection.
    /// Shared subscriptions use the filter `$share/<group>/<filter>`.
    public func subscribe(
        _ filter: String, qos: MQTTQoS = .atLeastOnce, options: MQTTSubscribeOptions = []
    ) async throws(MQTTError) {
        try await sendAcknowledged(.subscribe(filter: filter)) { core, _ throws(MQTTError) -> Placement in
            if core.subscriptions[filter] == nil { core.subscriptionOrder.append(filter) }
            core.subscriptions[filter] = Subscription(qos: qos, options: options)
            guard core.machine.isConnected else { return .nothingToAwait }
            var mid: Int32 = 0
            try mosquittoCall("subscribe to '\(filter)'") {
                mosquitto_subscribe_v5(handle.pointer, &mid, filter, qos.rawValue, options.rawValue, nil)
            }
            return .awaitAcknowledgement(mid: mid)
        }
    }

    /// Unsubscribes and waits for the UNSUBACK; the filter is no longer restored on reconnect.
    public func unsubscribe(_ filter: String) async throws(MQTTError) {
        try await sendAcknowledged(.unsubscribe(filter: filter)) { core, _ throws(MQTTError) -> Placement in
            core.subscriptions[filter] = nil
            core.subscriptionOrder.removeAll { $0 == filter }
            guard core.machine.isConnected else { return .nothingToAwait }
            var mid: Int32 = 0
            try mosquittoCall("unsubscribe from '\(filter)'") {
                mosquitto_unsubscribe_v5(handle.pointer, &mid, filter, nil)
            }
            return .awaitAcknowledgement(mid: mid)
        }
    }

    // MARK: Publishing

    /// Hands a message to the network thread without waiting for the broker.
    ///
    /// While disconnected a QoS 1/2 message is held in the bounded outbound queue (throwing
    /// `outboundQueueFull` when it is full) and a QoS 0 message throws `notConnected`.
    public func publish(_ message: MQTTMessage) throws(MQTTError) {
        try core.withLock { core throws(MQTTError) in
            _ = try publishLocked(message, waiterToken: nil, core: &core)
        }
    }

    /// Publishes and waits until the broker acknowledged it (PUBACK for QoS 1, PUBCOMP for
    /// QoS 2); throws `publishRefused` when the broker refused it, e.g. for an ACL.
    /// QoS 0 returns once the message is handed to the network thread. A message held while
    /// disconnected is waited for until it is sent and acknowledged, or expires.
    public func publishAcknowledged(_ message: MQTTMessage) async throws(MQTTError) {
        if message.qos == .atMostOnce {
            try publish(message)
            return
        }
        try await sendAcknowledged(.publish(topic: message.topic)) { core, token throws(MQTTError) -> Placement in
            try publishLocked(message, waiterToken: token, core: &core)
        }
    }

    /// What an operation that may wait for the broker did.
    enum Placement {
        /// Sent; the broker acknowledges `mid`.
        case awaitAcknowledgement(mid: Int32)
        /// Held in the outbound queue (disconnected, or beyond the in-flight limit), with its
        /// waiter's token.
        case heldInQueue
        /// Done; nothing to wait for (recorded for the next connection, or QoS 0).
        case nothingToAwait
    }

    /// Runs `send` with the core locked and registers the caller's waiter before the lock is
    /// released, then waits (bounded by the acknowledgement timeout once sent).
    private func sendAcknowledged(
        _ operation: AcknowledgedOperation,
        _ send: (inout Core, _ waiterToken: UInt64) throws(MQTTError) -> Placement
    ) async throws(MQTTError) {
        var timeoutTask: Task<Void, Never>?
        let result: Result<Void, MQTTError> = await withCheckedContinuation { continuation in
            core.withLock { core in
                let token = core.nextWaiterID
                core.nextWaiterID += 1
                let waiter = AcknowledgementWaiter(token: token, operation: operation, continuation: continuation)
                do throws(MQTTError) {
                    guard !core.machine.isFinished else { throw .shutDown }
                    switch try send(&core, token) {
                    case .awaitAcknowledgement(let mid):
                        core.acknowledgementWaiters[mid] = waiter
                        timeoutTask = scheduleAcknowledgementTimeout(mid: mid, token: token, operation: operation)
                    case .heldInQueue:
                        core.queuedPublishWaiters[token] = waiter
                    case .nothingToAwait:
                        continuation.resume(returning: .success(()))
                    }
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        timeoutTask?.cancel()
        try result.get()
    }

    private func scheduleAcknowledgementTimeout(
        mid: Int32, token: UInt64, operation: AcknowledgedOperation
    ) -> Task<Void, Never> {
        let timeout = configuration.acknowledgementTimeout
        return Task { [weak self] in
            do {
                try await Task.sleep(for: timeout)
            } catch {
                return  // cancelled: the acknowledgement arrived
            }
            guard let self else { return }
            let waiter = core.withLock { core -> AcknowledgementWaiter? in
                guard core.acknowledgementWaiters[mid]?.token == token else { return nil }
                return core.acknowledgementWaiters.removeValue(forKey: mid)
            }
            let millis = Int(ReconnectBackoff.seconds(timeout) * 1000)
            waiter?.continuation.resume(
                returning: .failure(.acknowledgementTimedOut(operation: operation.name, timeoutMilliseconds: millis)))
        }
    }

    /// Publishes now when connected, or holds the message; called with the core locked so a
    /// publish can never overtake the queue being flushed on reconnect.
    func publishLocked(
        _ message: MQTTMessage, waiterToken: UInt64?, core: inout Core
    ) throws(MQTTError) -> Placement {
        guard !core.machine.isFinished else { throw .shutDown }
        guard core.machine.isConnected else {
            guard message.qos != .atMostOnce else { throw .notConnected(operation: "publish to '\(message.topic)'") }
            try core.pending.enqueue(message, at: .now, waiterID: waiterToken)
            core.statistics.publishesQueued += 1
            return waiterToken == nil ? .nothingToAwait : .heldInQueue
        }
        // Beyond the in-flight limit, or behind messages already waiting, a QoS > 0 message
        // waits in the bounded, ageing queue (QoS 0 has no acknowledgement to wait for).
        if message.qos != .atMostOnce, !core.pending.isEmpty || core.unacknowledged.count >= inflightLimit(core) {
            try core.pending.enqueue(message, at: .now, waiterID: waiterToken)
            core.statistics.publishesQueued += 1
            return waiterToken == nil ? .nothingToAwait : .heldInQueue
        }
        let mid = try sendPublish(message, core: &core)
        core.statistics.messagesPublished += 1
        return .awaitAcknowledgement(mid: mid)
    }

    func inflightLimit(_ core: Core) -> Int {
        max(1, min(configuration.maximumInflight, core.brokerReceiveMaximum))
    }

    /// Hands a message to libmosquitto and remembers a QoS > 0 one until its acknowledgement
    /// (its expiry, if any, ages from now); called with the core locked.
    func sendPublish(_ message: MQTTMessage, core: inout Core) throws(MQTTError) -> Int32 {
        let mid = try sendPublish(message)
        if message.qos != .atMostOnce {
            core.unacknowledged[mid] = Unacknowledged(message: message, sentAt: .now, order: core.nextSendOrder)
            core.nextSendOrder &+= 1
        }
        return mid
    }

    private func sendPublish(_ message: MQTTMessage) throws(MQTTError) -> Int32 {
        guard message.payload.count <= 268_435_455 else {
            throw .invalidArgument("payload of \(message.payload.count) bytes exceeds MQTT's limit")
        }
        var mid: Int32 = 0
        try message.properties.withMosquittoPropertyList { list throws(MQTTError) in
            let code = message.payload.withUnsafeBytes { bytes in
                mosquitto_publish_v5(
                    handle.pointer, &mid, message.topic, Int32(bytes.count), bytes.baseAddress,
                    message.qos.rawValue, message.retain, list)
            }
            // A QoS > 0 message that meets a connection dropping under it stays in
            // libmosquitto's own queue and is resent after the reconnect.
            if code == MOSQ_ERR_NO_CONN.rawValue && message.qos != .atMostOnce { return }
            try mosquittoCall("publish to '\(message.topic)'") { code }
        }
        return mid
    }
}
