import AccessProtocol
import Logging
import MQTT
import ServiceLifecycle
import Synchronization

/// The device connection: requests, lock events and statuses, pole telemetry and statuses, and
/// operator unlocks come in (handed to the `InboundRouter` on its network thread); decisions,
/// commands, alarms, status and the audit head go out. Publishes the gateway's retained status
/// (online at every connect, since the Last Will may have replaced it; offline at shutdown).
/// Runs first and stops last in the ServiceGroup, so every other service can still publish while
/// it stops.
public final class DeviceConnectionService: Service, Sendable {
    let context: GatewayContext
    let client: MQTTClient
    let readiness: Readiness
    /// The booking feed's: the gateway is not online before it can hear cancels.
    let bookingsReadiness: Readiness
    /// Dialect devices' topics this connection is subscribed to (device profiles).
    private let profileFilters = Mutex<Set<String>>([])

    init(context: GatewayContext, client: MQTTClient, readiness: Readiness, bookingsReadiness: Readiness) {
        self.context = context
        self.client = client
        self.readiness = readiness
        self.bookingsReadiness = bookingsReadiness
    }

    /// The request filter, shared (`$share/<group>/…`) when gateways share the site's requests.
    static func requestFilter(topics: SiteTopics, sharedGroup: String?) -> String {
        sharedGroup.map { "$share/\($0)/\(topics.requests)" } ?? topics.requests
    }

    var requestFilter: String {
        Self.requestFilter(topics: context.topics, sharedGroup: context.settings.configuration.broker.sharedGroup)
    }

    public func run() async throws {
        let topics = context.topics
        try client.start()
        context.logger.info(
            "connecting to broker",
            metadata: ["broker": "\(client.configuration.host):\(client.configuration.port)"])
        // (v1.1) Requests, events and operator unlocks: a retained one is never sent at subscribe
        // time (Retain Handling 2), and one that arrives with its flag kept (Retain As Published)
        // is dropped by the router. Statuses are retained by design (a device's last word).
        let actionable: MQTTSubscribeOptions = [.neverSendRetained, .retainAsPublished]
        let none: MQTTSubscribeOptions = []
        var filters: [(String, MQTTSubscribeOptions)] = [
            (topics.lockEvents, actionable), (topics.lockStatus, none), (topics.poleTelemetry, none),
            (topics.poleStatus, none), (topics.operatorUnlock(gatewayID: context.gatewayID), actionable),
        ]
        let homeAssistant = context.settings.configuration.homeAssistant
        if homeAssistant.enabled, homeAssistant.remoteOpen {
            filters.append((topics.homeAssistantSets(gatewayID: context.gatewayID), actionable))
        }
        for (filter, options) in filters {
            try await client.subscribe(filter, qos: .atLeastOnce, options: options)
        }
        await reconcileProfileSubscriptions()
        var requestsSubscribed = false
        await withGracefulShutdownHandler {
            for await state in client.connectionStates() {
                switch state {
                case .connected:
                    context.logger.info("broker connected", metadata: ["requests": "\(requestFilter)"])
                    if !requestsSubscribed {
                        // (v1.1) Before deciding anything: is the published audit head ours?
                        await AuditHeadCheck.run(context: context, client: client)
                        do {
                            try await client.subscribe(requestFilter, qos: .atLeastOnce, options: actionable)
                            requestsSubscribed = true
                            context.requestSubscriptionProblem.withLock { $0 = nil }
                        } catch {
                            // Tried again at the next connect (after the broker's rules are fixed
                            // and it restarts); until then nothing is heard, so not ready.
                            context.requestSubscriptionProblem.withLock { $0 = "\(requestFilter): \(error)" }
                            context.logger.error(
                                "request subscription refused: no lock is heard (check the broker's rules for this gateway)",
                                metadata: ["filter": "\(requestFilter)", "error": "\(error)"])
                        }
                    }
                    // Connected as far as a lock can tell: its requests are heard.
                    context.metrics.brokerConnected.record(requestsSubscribed ? 1 : 0)
                    guard requestsSubscribed else { continue }
                    await bookingsReadiness.wait()
                    guard bookingsReadiness.isReady else { continue }
                    publishStatus(online: true)
                    readiness.markReady()
                case .disconnected(let reason, _):
                    context.metrics.brokerConnected.record(0)
                    context.logger.warning("broker connection lost", metadata: ["reason": "\(reason)"])
                case .shutDown:
                    context.metrics.brokerConnected.record(0)
                    return
                default:
                    break
                }
            }
        } onGracefulShutdown: {
            self.bookingsReadiness.close()
            Task {
                let status = MQTTMessage(
                    topic: topics.gatewayStatus(gatewayID: self.context.gatewayID),
                    payload: GatewayMessages.status(
                        gatewayID: self.context.gatewayID, online: false, ts: self.context.nowMs()),
                    retain: true)
                let client = self.client
                // Without a connection there is nothing to wait for: the Last Will (or the last
                // offline status) already says offline.
                if client.isConnected, await !bounded(.seconds(1), { try await client.publishAcknowledged(status) }) {
                    self.context.logger.warning(
                        "could not publish the offline status before stopping (the Last Will covers it)")
                }
                await client.shutdown()
            }
        }
    }

    /// Subscribes to the topics of dialect devices the inventory lists and unsubscribes from
    /// those it no longer lists (at start and after a reload). The client keeps them across
    /// reconnects. A refused subscription is logged: that device is not heard.
    func reconcileProfileSubscriptions() async {
        let wanted = context.settings.profileRoutes.filters
        let current = profileFilters.withLock { $0 }
        for (filter, options) in wanted.sorted(by: { $0.key < $1.key }) where !current.contains(filter) {
            do {
                try await client.subscribe(filter, qos: .atLeastOnce, options: options)
                profileFilters.withLock { _ = $0.insert(filter) }
            } catch {
                context.logger.error(
                    "device profile subscription refused: that device is not heard (check the broker's rules)",
                    metadata: ["filter": "\(filter)", "error": "\(error)"])
            }
        }
        for filter in current.subtracting(wanted.keys).sorted() {
            try? await client.unsubscribe(filter)
            profileFilters.withLock { _ = $0.remove(filter) }
        }
        if !wanted.isEmpty {
            context.logger.info("device profile topics subscribed", metadata: ["topics": "\(wanted.count)"])
        }
    }

    /// Stops taking requests (called by the request service as it starts to drain).
    static func unsubscribe(_ filter: String, client: MQTTClient, logger: Logger) async {
        if await !bounded(.seconds(3), { try await client.unsubscribe(filter) }) {
            logger.warning("could not unsubscribe from requests before stopping")
        }
    }

    private func publishStatus(online: Bool) {
        context.publish(
            MQTTMessage(
                topic: context.topics.gatewayStatus(gatewayID: context.gatewayID),
                payload: GatewayMessages.status(gatewayID: context.gatewayID, online: online, ts: context.nowMs()),
                retain: true))
    }
}

/// Set once the device connection is up and subscribed: the supervisor tells systemd READY=1.
/// A waiter returns early when its task is cancelled, so a stop before the first connection
/// is not held up by it.
final class Readiness: Sendable {
    private struct State {
        var ready = false
        var closed = false
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    var isReady: Bool { state.withLock { $0.ready } }

    func markReady() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.ready = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Releases every waiter without being ready (a stop began before it was).
    func close() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.closed = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once ready, closed, or when the calling task is cancelled (check `isReady`).
    func wait() async {
        let id = state.withLock { state -> UInt64 in
            defer { state.nextID += 1 }
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if state.ready || state.closed || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}

/// Runs `operation` for at most `limit`; false when it failed or ran out of time. The operation
/// is not awaited past the limit (the client's shutdown fails it afterwards).
func bounded(_ limit: Duration, _ operation: @escaping @Sendable () async throws -> Void) async -> Bool {
    let (outcomes, continuation) = AsyncStream<Bool>.makeStream()
    let work = Task {
        do {
            try await operation()
            continuation.yield(true)
        } catch {
            continuation.yield(false)
        }
    }
    let timer = Task {
        try? await Task.sleep(for: limit)
        continuation.yield(false)
    }
    var result = false
    for await outcome in outcomes {
        result = outcome
        break
    }
    continuation.finish()
    timer.cancel()
    if !result { work.cancel() }
    return result
}
