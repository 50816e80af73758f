import CMosquitto
import Dispatch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension MQTTClient {
    /// How long one `mosquitto_loop` call may block in `select`; publishes from other threads
    /// wake it at once through libmosquitto's socket pair, so this only bounds housekeeping.
    static let loopTimeoutMilliseconds: Int32 = 100

    func launch(retry: Bool) throws(MQTTError) {
        try core.withLock { core throws(MQTTError) in
            guard !core.machine.isFinished else { throw .shutDown }
            guard core.loopThread == nil else { throw .invalidArgument("the client was already started") }
            core.machine.retry = retry
            apply(core.machine.start(), core: &core)
            let context = Unmanaged.passRetained(self).toOpaque()
            var thread = pthread_t()
            let code = pthread_create(
                &thread, nil,
                { raw in
                    guard let raw else { return nil }
                    let client = Unmanaged<MQTTClient>.fromOpaque(raw).takeRetainedValue()
                    client.runNetworkLoop()
                    return nil
                }, context)
            guard code == 0 else {
                Unmanaged<MQTTClient>.fromOpaque(context).release()
                throw .library(
                    operation: "start the MQTT network thread", code: code,
                    message: String(cString: strerror(code)), detail: nil)
            }
            core.loopThread = thread
        }
    }

    /// The body of the network thread: asks the state machine what to do and does it.
    func runNetworkLoop() {
        // Named so an operator (top -H) and the tests can see it; Linux allows 15 characters.
        _ = setCurrentThreadName(String("mqtt:\(configuration.clientID)".prefix(15)))
        var generator = SystemRandomNumberGenerator()
        let host = configuration.host
        let port = configuration.port
        loop: while true {
            switch core.withLock({ $0.machine.nextStep(at: .now) }) {
            case .exit:
                break loop
            case .issueConnect(let attempt):
                let freshened = core.withLock { core -> MQTTError? in
                    guard core.needsFreshHandle else { return nil }
                    do throws(MQTTError) {
                        try freshenHandle()
                        core.needsFreshHandle = false
                        return nil
                    } catch {
                        apply(core.machine.connectionFailed(error, at: .now, using: &generator), core: &core)
                        return error
                    }
                }
                if freshened != nil { continue loop }
                lastLibraryError.withLock { $0 = nil }
                listenToLibraryLog(true)
                logger.debug("connecting", metadata: ["mqtt.broker": "\(host):\(port)", "mqtt.attempt": "\(attempt)"])
                let code = mosquitto_connect_bind_async(
                    handle.pointer, host, Int32(port), Int32(configuration.keepAliveSeconds), nil)
                let savedErrno = errno
                core.withLock { core in
                    if code == MOSQ_ERR_SUCCESS.rawValue {
                        core.machine.connectIssued(at: .now)
                    } else {
                        let error = connectionError(code: code, errno: savedErrno)
                        apply(core.machine.connectionFailed(error, at: .now, using: &generator), core: &core)
                    }
                }
            case .driveNetwork:
                let code = mosquitto_loop(handle.pointer, Self.loopTimeoutMilliseconds, 1)
                let savedErrno = errno
                core.withLock { core in
                    if code != MOSQ_ERR_SUCCESS.rawValue {
                        let error = connectionError(code: code, errno: savedErrno)
                        apply(core.machine.connectionFailed(error, at: .now, using: &generator), core: &core)
                    }
                    apply(core.machine.tick(at: .now, host: host, port: port, using: &generator), core: &core)
                }
            case .sleep(let until):
                let remaining = ContinuousClock.now.duration(to: until)
                if remaining > .zero {
                    let nanos = Int(ReconnectBackoff.seconds(remaining) * 1e9)
                    _ = wakeUp.wait(timeout: .now() + .nanoseconds(nanos))
                }
                core.withLock { core in
                    apply(core.machine.tick(at: .now, host: host, port: port, using: &generator), core: &core)
                }
            }
        }
        let waiters = core.withLock { core -> [CheckedContinuation<Void, Never>] in
            core.loopExited = true
            defer { core.loopExitWaiters = [] }
            return core.loopExitWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func waitForLoopExit() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let exited = core.withLock { core -> Bool in
                if core.loopExited || core.loopThread == nil { return true }
                core.loopExitWaiters.append(continuation)
                return false
            }
            if exited { continuation.resume() }
        }
    }

    func connectionError(code: Int32, errno savedErrno: Int32) -> MQTTError {
        let detail = lastLibraryError.withLock { detail -> String? in
            defer { detail = nil }
            return detail
        }
        return .fromMosquitto(
            code: code, errno: savedErrno,
            operation: "connection to \(configuration.host):\(configuration.port)", detail: detail)
    }

    /// Performs a state-machine action; called with the core locked.
    func apply(_ action: ConnectionStateMachine.Action, core: inout Core) {
        switch action {
        case .none:
            return
        case .announce(let state):
            if case .disconnected(let reason, let retry) = state {
                core.statistics.connectionFailures += 1
                failWaitersOnConnectionLoss(core: &core)
                if retry != nil {
                    requeueUnacknowledged(core: &core)
                    core.needsFreshHandle = true
                }
                let retryText = retry.map { "\($0) ms" } ?? "no"
                logger.warning(
                    "MQTT connection down: \(reason)", metadata: ["mqtt.retry_in": "\(retryText)"])
            }
            announce(state, core: &core)
        case .restoreSessionAndAnnounce:
            core.statistics.connects += 1
            restoreSession(core: &core)
            logger.info("MQTT connected", metadata: ["mqtt.broker": "\(configuration.host):\(configuration.port)"])
            announce(.connected, core: &core)
        case .sendDisconnect:
            let code = mosquitto_disconnect_v5(handle.pointer, Int32(MQTT_RC_NORMAL_DISCONNECTION.rawValue), nil)
            if code != MOSQ_ERR_SUCCESS.rawValue {
                // No socket to say goodbye on: the loop sees the closed socket and finishes.
                logger.debug("disconnect: \(String(cString: mosquitto_strerror(code)))")
            }
        }
    }

    func announce(_ state: MQTTConnectionState, core: inout Core) {
        core.currentState = state
        let finished = observers.withLock { observers -> [AsyncStream<MQTTConnectionState>.Continuation] in
            for observer in observers.continuations.values { observer.yield(state) }
            guard state == .shutDown else { return [] }
            defer { observers.continuations = [:] }
            return Array(observers.continuations.values)
        }
        // Outside the observers lock: finishing runs each stream's onTermination.
        for observer in finished { observer.finish() }
    }

    /// After CONNACK: re-subscribe every recorded filter and send what was held, oldest first.
    private func restoreSession(core: inout Core) {
        for filter in core.subscriptionOrder {
            guard let subscription = core.subscriptions[filter] else { continue }
            let code = mosquitto_subscribe_v5(
                handle.pointer, nil, filter, subscription.qos.rawValue, subscription.options.rawValue, nil)
            if code != MOSQ_ERR_SUCCESS.rawValue {
                logger.error("re-subscribe to '\(filter)' failed: \(String(cString: mosquitto_strerror(code)))")
            }
        }
        sendPending(core: &core)
    }

    /// Sends what waits in the outbound queue, oldest first, while the in-flight limit allows;
    /// drops (and reports) what expired while it waited. After CONNACK and after each PUBACK;
    /// called with the core locked.
    func sendPending(core: inout Core) {
        guard core.machine.isConnected else { return }
        let limit = inflightLimit(core)
        while core.unacknowledged.count < limit, let taken = core.pending.takeFirst(at: .now) {
            switch taken {
            case .expired(let entry):
                core.statistics.publishesExpiredInQueue += 1
                configuration.expiredHandler?(entry.message)
                logger.debug("held message to '\(entry.message.topic)' expired before it could be sent; dropped")
                if let token = entry.waiterID, let waiter = core.queuedPublishWaiters.removeValue(forKey: token) {
                    waiter.continuation.resume(returning: .failure(.expiredBeforeSending(topic: entry.message.topic)))
                }
            case .ready(let entry):
                let waiter = entry.waiterID.flatMap { core.queuedPublishWaiters.removeValue(forKey: $0) }
                do throws(MQTTError) {
                    // Its expiry already lost the time it waited: it ages from now on.
                    let mid = try sendPublish(entry.message, core: &core)
                    core.statistics.messagesPublished += 1
                    if let waiter { core.acknowledgementWaiters[mid] = waiter }
                } catch {
                    logger.error("sending a held message failed: \(error)")
                    waiter?.continuation.resume(returning: .failure(error))
                }
            }
        }
    }

    /// A lost connection's unacknowledged QoS > 0 publishes go back to the front of `pending`, in
    /// send order and aged from their first send: the reconnect sends those still within their
    /// Message Expiry (with what is left of it) and drops the rest, counted.
    private func requeueUnacknowledged(core: inout Core) {
        guard !core.unacknowledged.isEmpty else { return }
        let lost = core.unacknowledged.sorted { $0.value.order < $1.value.order }
        core.unacknowledged = [:]
        var entries: [PendingPublishQueue.Entry] = []
        entries.reserveCapacity(lost.count)
        for (mid, item) in lost {
            var waiterID: UInt64?
            if let waiter = core.acknowledgementWaiters.removeValue(forKey: mid) {
                core.queuedPublishWaiters[waiter.token] = waiter
                waiterID = waiter.token
            }
            entries.append(
                PendingPublishQueue.Entry(message: item.message, enqueuedAt: item.sentAt, waiterID: waiterID))
        }
        core.pending.requeueAtFront(entries)
        core.statistics.publishesRequeued += entries.count
    }

    /// SUBACKs and UNSUBACKs for the old connection will never come; unacknowledged publishes
    /// are sent again by `requeueUnacknowledged`, and their waiters follow them.
    private func failWaitersOnConnectionLoss(core: inout Core) {
        for (mid, waiter) in core.acknowledgementWaiters {
            switch waiter.operation {
            case .subscribe, .unsubscribe:
                core.acknowledgementWaiters[mid] = nil
                waiter.continuation.resume(returning: .failure(.notConnected(operation: waiter.operation.name)))
            case .publish:
                continue
            }
        }
    }

    /// After the loop thread ended: fail whatever still waits and close the streams.
    func finishEverything() {
        let waiters = core.withLock { core -> [AcknowledgementWaiter] in
            if core.currentState != .shutDown { announce(.shutDown, core: &core) }
            let all = Array(core.acknowledgementWaiters.values) + Array(core.queuedPublishWaiters.values)
            core.acknowledgementWaiters = [:]
            core.queuedPublishWaiters = [:]
            _ = core.pending.drain(at: .now)
            return all
        }
        for waiter in waiters { waiter.continuation.resume(returning: .failure(.shutDown)) }
        inbound.finish()
    }
}

extension MQTTClient {
    /// Joins the network thread once it has exited, so no thread outlives the client.
    func joinLoopThread() {
        let thread = core.withLock { core -> pthread_t? in
            defer { core.loopThread = nil }
            return core.loopThread
        }
        if let thread { pthread_join(thread, nil) }
    }
}

/// glibc's `pthread_setname_np` is declared only under `_GNU_SOURCE`, which the Glibc module
/// does not set; the symbol itself is always there.
@_silgen_name("pthread_setname_np")
private func _pthreadSetName(_ thread: pthread_t, _ name: UnsafePointer<CChar>) -> Int32

private func setCurrentThreadName(_ name: String) -> Int32 {
    _pthreadSetName(pthread_self(), name)
}
