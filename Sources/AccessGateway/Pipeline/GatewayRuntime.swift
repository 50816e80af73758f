import AccessCore
import AccessStore
import Crypto
import Dispatch
import Logging
import MQTT
import Synchronization

/// The running gateway: what every message handler shares. The request path is
/// `handleRequest` → `AccessEngine.handle` (rules, audit commit) → `publishDecision`.
final class GatewayRuntime: Sendable {
    let topics: SiteTopics
    let store: AccessStore
    let auditLog: AuditLog
    let engine: AccessEngine
    let client: MQTTClient
    let logger: Logger
    let metrics = GatewayMetrics()
    let gatewayID: String
    private let state: Mutex<State>
    private let monitor: Mutex<DeviceMonitor>
    private let inFlight = Atomic<Int>(0)
    /// Requests decided at once; enough for the audit log's group commit to fill its batches.
    private let slots = RequestSlots(limit: 128)

    struct State: @unchecked Sendable {
        // Holds SymmetricKeys (immutable; swift-crypto 3 does not declare them Sendable).
        var configuration: GatewayConfiguration
        var keys: AccessGatewayService.Keys
        var poleKeys: [String: SymmetricKey]
        var operatorKey: SymmetricKey
        /// Operator request ids seen in the last minute (replay protection).
        var operatorRequests: [String: Int64] = [:]
        var lastHeadPublished: AuditLog.AuditHead?
        var lastHeadPublishMs: Int64 = 0
    }

    init(
        configuration: GatewayConfiguration, keys: AccessGatewayService.Keys, topics: SiteTopics, store: AccessStore,
        auditLog: AuditLog, engine: AccessEngine, client: MQTTClient, logger: Logger, startMs: Int64
    ) {
        self.topics = topics
        self.store = store
        self.auditLog = auditLog
        self.engine = engine
        self.client = client
        self.logger = logger
        self.gatewayID = configuration.gatewayID
        self.state = Mutex(
            State(
                configuration: configuration, keys: keys, poleKeys: Self.poleKeys(configuration, keys),
                operatorKey: OperatorUnlock.operatorKey(siteKey: keys.siteKey, siteID: configuration.site.id)))
        self.monitor = Mutex(
            DeviceMonitor(
                site: configuration.site, policy: configuration.alarms, unlockForS: configuration.policy.unlockForS,
                startMs: startMs))
    }

    static func poleKeys(_ configuration: GatewayConfiguration, _ keys: AccessGatewayService.Keys) -> [String:
        SymmetricKey]
    {
        let derive = DeviceKeys(siteKey: keys.siteKey, siteID: configuration.site.id)
        var result: [String: SymmetricKey] = [:]
        for poleID in configuration.site.poles.keys { result[poleID] = derive.poleKey(poleID: poleID) }
        return result
    }

    var configuration: GatewayConfiguration { state.withLock { $0.configuration } }

    // MARK: Subscriptions and status

    var requestFilter: String {
        if let group = configuration.broker.sharedGroup { return "$share/\(group)/\(topics.requests)" }
        return topics.requests
    }

    func subscribe() async throws {
        for filter in [
            topics.bookings, requestFilter, topics.lockEvents, topics.lockStatus, topics.poleTelemetry,
            topics.poleStatus, topics.operatorUnlock(gatewayID: gatewayID),
        ] {
            try await client.subscribe(filter, qos: .atLeastOnce)
        }
        logger.info("subscribed", metadata: ["requests": "\(requestFilter)"])
    }

    func publishStatus(online: Bool) async throws {
        let payload = CanonicalJSON.object([
            ("online", .bool(online)), ("gatewayId", .string(gatewayID)), ("ts", .integer(Clock.nowMs())),
        ])
        try await client.publishAcknowledged(
            MQTTMessage(topic: topics.gatewayStatus(gatewayID: gatewayID), payload: payload, retain: true))
    }

    // MARK: Dispatch

    /// Reads every inbound message. Bookings and device reports are applied in arrival order;
    /// requests are decided concurrently.
    func dispatchMessages() async {
        await withDiscardingTaskGroup { group in
            for await message in client.messages {
                guard let inbound = topics.classify(message.topic) else {
                    metrics.drop("unknown_topic")
                    continue
                }
                switch inbound {
                case .request(let lockID):
                    await slots.acquire()
                    inFlight.add(1, ordering: .acquiringAndReleasing)
                    group.addTask {
                        await self.handleRequest(message, lockID: lockID)
                        self.inFlight.subtract(1, ordering: .acquiringAndReleasing)
                        self.slots.release()
                    }
                case .bookings:
                    handleBooking(message)
                case .operatorUnlock:
                    group.addTask { await self.handleOperatorUnlock(message) }
                case .lockEvent(let lockID):
                    handleLockReport(
                        lockID: lockID, report: DeviceReport.parseLockEvent(message.payload), kind: "event")
                case .lockStatus(let lockID):
                    handleLockReport(lockID: lockID, report: DeviceReport.parseStatus(message.payload), kind: "status")
                case .poleTelemetry(let poleID):
                    await handlePoleReport(
                        poleID: poleID, report: DeviceReport.parseTelemetry(message.payload), kind: "telemetry")
                case .poleStatus(let poleID):
                    await handlePoleReport(
                        poleID: poleID, report: DeviceReport.parseStatus(message.payload), kind: "status")
                }
            }
        }
    }

    func handleRequest(_ message: MQTTMessage, lockID: String) async {
        let started = ContinuousClock.now
        let nowMs = Clock.nowMs()
        let result = await engine.handle(lockID: lockID, payload: message.payload, nowMs: nowMs)
        guard case .decided(let decided) = result else {
            metrics.drop("invalid_lock_id")
            logger.debug(
                "request dropped: lock id breaks the identifier rule",
                metadata: ["topic": "\(message.topic.prefix(200))"])
            return
        }
        metrics.requests[decided.decision.reason]?.increment()
        if decided.decision.reason == .malformed || decided.decision.reason == .internalError {
            logger.warning(
                "request denied",
                metadata: [
                    "lock": "\(lockID)", "reason": "\(decided.decision.reason.rawValue)",
                    "detail": "\(decided.detail ?? "")",
                ])
        }
        publishDecision(decided, request: message, lockID: lockID)
        let elapsed = (ContinuousClock.now - started).components
        metrics.decisionLatency.recordNanoseconds(elapsed.seconds * 1_000_000_000 + elapsed.attoseconds / 1_000_000_000)

        if let durationS = decided.lockoutStartedS {
            perform(monitor.withLock { $0.lockoutStarted(lockID: lockID, durationS: durationS, nowMs: nowMs) })
        }
        if decided.decision.granted {
            perform(monitor.withLock { $0.granted(lockID: lockID, nowMs: nowMs) })
        }
    }

    /// The decision (and its copy to an acceptable v5 response topic), then the command. The
    /// audit record is already committed when this runs.
    func publishDecision(_ decided: AccessDecided, request: MQTTMessage, lockID: String) {
        let payload = Array(decided.decision.payload.utf8)
        publish(MQTTMessage(topic: topics.decision(lockID: lockID), payload: payload))
        if let responseTopic = request.properties.responseTopic {
            if Identifier.isValid(lockID), topics.isAcceptableResponseTopic(responseTopic, lockID: lockID) {
                var properties = MQTTPublishProperties()
                properties.correlationData = request.properties.correlationData
                publish(MQTTMessage(topic: responseTopic, payload: payload, properties: properties))
            } else {
                metrics.ignoredResponseTopics.increment()
            }
        }
        if let command = decided.command {
            guard let expiry = command.messageExpiryS(nowMs: Clock.nowMs()) else {
                metrics.staleCommands.increment()
                logger.warning("command dropped: already past notAfter", metadata: ["command": "\(command.commandID)"])
                return
            }
            var properties = MQTTPublishProperties()
            properties.messageExpiryInterval = expiry
            publish(
                MQTTMessage(topic: topics.command(lockID: lockID), payload: command.payload, properties: properties))
            metrics.commandsPublished.increment()
        }
    }

    func publish(_ message: MQTTMessage) {
        do {
            try client.publish(message)
        } catch {
            logger.error("publish failed", metadata: ["topic": "\(message.topic)", "error": "\(error)"])
        }
    }

    // MARK: Operator unlocks

    func handleOperatorUnlock(_ message: MQTTMessage) async {
        let nowMs = Clock.nowMs()
        let (siteID, operatorKey) = state.withLock { ($0.configuration.site.id, $0.operatorKey) }
        let reply: String
        switch OperatorUnlock.verify(message.payload, siteID: siteID, operatorKey: operatorKey, nowMs: nowMs) {
        case .failure(let problem):
            logger.warning("operator unlock refused", metadata: ["reason": "\(problem.problem)"])
            reply = CanonicalJSON.object([
                ("requestId", problem.requestID.map(JSONValue.string)), ("granted", .bool(false)),
                ("reason", .string("refused")), ("detail", .string(problem.problem)),
            ])
        case .success(let unlock):
            let fresh = state.withLock { state -> Bool in
                state.operatorRequests = state.operatorRequests.filter {
                    nowMs - $0.value < 2 * OperatorUnlock.freshnessMs
                }
                return state.operatorRequests.updateValue(nowMs, forKey: unlock.requestID) == nil
            }
            guard fresh else {
                logger.warning("operator unlock refused: replayed", metadata: ["request": "\(unlock.requestID)"])
                return
            }
            let decided = await engine.operatorUnlock(unlock, nowMs: nowMs)
            logger.notice(
                "operator unlock",
                metadata: [
                    "lock": "\(unlock.lockID)", "operator": "\(unlock.operatorName)",
                    "reason": "\(decided.decision.reason.rawValue)", "auditSeq": "\(decided.audit?.seq ?? 0)",
                ])
            if let command = decided.command, let expiry = command.messageExpiryS(nowMs: Clock.nowMs()) {
                var properties = MQTTPublishProperties()
                properties.messageExpiryInterval = expiry
                publish(
                    MQTTMessage(
                        topic: topics.command(lockID: unlock.lockID), payload: command.payload, properties: properties))
                metrics.commandsPublished.increment()
                perform(monitor.withLock { $0.granted(lockID: unlock.lockID, nowMs: nowMs) })
            }
            reply = CanonicalJSON.object([
                ("requestId", .string(unlock.requestID)), ("granted", .bool(decided.decision.granted)),
                ("reason", .string(decided.decision.reason.rawValue)),
                ("commandId", decided.command.map { JSONValue.string($0.commandID) }),
                ("auditSeq", decided.audit.map { JSONValue.integer($0.seq) }),
            ])
        }
        var properties = MQTTPublishProperties()
        properties.correlationData = message.properties.correlationData
        let operatorBranch = "\(topics.root)/gateway/\(gatewayID)/operator/"
        let target =
            message.properties.responseTopic.flatMap {
                $0.hasPrefix(operatorBranch) && !$0.contains(where: { "+#".contains($0) }) ? $0 : nil
            } ?? topics.operatorResult(gatewayID: gatewayID)
        publish(MQTTMessage(topic: target, payload: reply, properties: properties))
    }

    // MARK: Bookings

    func handleBooking(_ message: MQTTMessage) {
        switch BookingMessage.parse(message.payload, defaults: configuration.bookingDefaults) {
        case .failure(let error):
            metrics.bookings["rejected"]?.increment()
            logger.warning("booking message rejected", metadata: ["reason": "\(error.problem)"])
        case .success(let booking):
            do {
                let outcome = try store.apply(booking, nowMs: Clock.nowMs())
                metrics.bookings[outcome.rawValue]?.increment()
                logger.debug("booking message", metadata: ["outcome": "\(outcome.rawValue)"])
            } catch {
                metrics.bookings["failed"]?.increment()
                logger.error("booking message could not be stored", metadata: ["error": "\(error)"])
            }
        }
    }

    // MARK: Devices

    func handleLockReport(lockID: String, report: DeviceReport?, kind: String) {
        guard Identifier.isValid(lockID), configuration.site.locks[lockID] != nil else {
            metrics.drop("unknown_device")
            return
        }
        guard let report else {
            metrics.drop("malformed_\(kind)")
            return
        }
        let nowMs = Clock.nowMs()
        perform(monitor.withLock { $0.lockReport(report, lockID: lockID, nowMs: nowMs) })
        recordOpenAlarms(lockID: lockID)
        var state = AccessStore.DeviceState(kind: "lock", id: lockID, lastSeenMs: nowMs)
        switch report {
        case .status(let online, let battery, let firmware, let rssi):
            state.online = online
            state.battery = battery
            state.firmware = firmware
            state.rssi = rssi
        case .door(let open): state.doorState = open ? "open" : "closed"
        case .lockState(let lockState): state.lockState = lockState
        default: break
        }
        let store = self.store
        let logger = self.logger
        Task {
            do { try await store.recordDeviceState(state) } catch {
                logger.error("device state not stored", metadata: ["lock": "\(lockID)", "error": "\(error)"])
            }
        }
    }

    func handlePoleReport(poleID: String, report: DeviceReport?, kind: String) async {
        let site = configuration.site
        guard Identifier.isValid(poleID), site.poles[poleID] != nil else {
            metrics.drop("unknown_device")
            return
        }
        guard let report else {
            metrics.drop("malformed_\(kind)")
            return
        }
        let nowMs = Clock.nowMs()
        perform(monitor.withLock { $0.poleReport(report, poleID: poleID, nowMs: nowMs) })
        recordOpenAlarms(poleID: poleID)
        if case .telemetry(let telemetry) = report, telemetry.someoneThere {
            for space in site.spaces.values where space.poleIDs.contains(poleID) {
                do {
                    let occupancy = try store.spaceOccupancy(spaceID: space.id, nowMs: nowMs)
                    perform(
                        monitor.withLock {
                            $0.presence(
                                spaceID: space.id, poleID: poleID, lastReservationEndMs: occupancy.lastEndMs,
                                reservationActive: occupancy.active, nowMs: nowMs)
                        })
                } catch {
                    logger.error("occupancy lookup failed", metadata: ["space": "\(space.id)", "error": "\(error)"])
                }
            }
        }
        if case .status(let online, _, let firmware, let rssi) = report {
            let state = AccessStore.DeviceState(
                kind: "pole", id: poleID, online: online, firmware: firmware, rssi: rssi, lastSeenMs: nowMs)
            try? await store.recordDeviceState(state)
        }
    }

    /// Publishes alarms and signs welcome-lighting commands.
    /// Stores the device's open alarms, for `accessctl devices`.
    func recordOpenAlarms(lockID: String? = nil, poleID: String? = nil) {
        let (kind, id) = lockID.map { ("lock", $0) } ?? poleID.map { ("pole", $0) } ?? ("", "")
        guard !id.isEmpty else { return }
        let open = monitor.withLock {
            kind == "lock" ? $0.activeAlarms(lockID: id) : $0.activeAlarms(poleID: id)
        }.map(\.rawValue)
        let store = self.store
        let logger = self.logger
        Task {
            do { try await store.recordOpenAlarms(kind: kind, id: id, alarms: open) } catch {
                logger.error("open alarms not stored", metadata: ["device": "\(id)", "error": "\(error)"])
            }
        }
    }

    func perform(_ actions: [DeviceMonitor.Action]) {
        guard !actions.isEmpty else { return }
        let nowMs = Clock.nowMs()
        for action in actions {
            switch action {
            case .raise(let alarm):
                recordOpenAlarms(lockID: alarm.lockID, poleID: alarm.lockID == nil ? alarm.poleID : nil)
                metrics.alarms[alarm.kind]?.increment()
                let alarmID = "a-" + AccessEngine.randomCommandID().dropFirst(2)
                logger.notice(
                    "alarm",
                    metadata: [
                        "type": "\(alarm.kind.rawValue)", "lock": "\(alarm.lockID ?? "-")",
                        "pole": "\(alarm.poleID ?? "-")",
                        "detail": "\(alarm.detail)",
                    ])
                publish(MQTTMessage(topic: topics.alarms, payload: alarm.payload(alarmID: alarmID)))
            case .light(let poleID, let level, let forS):
                let (siteID, key, ttl) = state.withLock {
                    ($0.configuration.site.id, $0.poleKeys[poleID], $0.configuration.policy.commandTTLMs)
                }
                guard let key else { continue }
                let command = PoleCommand(
                    siteID: siteID, poleID: poleID, commandID: AccessEngine.randomCommandID(), level: level, forS: forS,
                    issuedAtMs: nowMs, ttlMs: ttl, poleKey: key)
                var properties = MQTTPublishProperties()
                properties.messageExpiryInterval = UInt32((ttl + 999) / 1000)
                publish(
                    MQTTMessage(
                        topic: topics.poleCommand(poleID: poleID), payload: command.payload, properties: properties))
                logger.info(
                    "welcome lighting", metadata: ["pole": "\(poleID)", "level": "\(level)", "forS": "\(forS)"])
            }
        }
    }

    // MARK: Loops

    func tickLoop() async {
        var ticks = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            let nowMs = Clock.nowMs()
            perform(monitor.withLock { $0.tick(nowMs: nowMs) })
            ticks += 1
            // Once a minute: the admission state of locks back to a new lock's is dropped.
            if ticks % 60 == 0 { engine.forgetIdleAdmissionState(nowMs: nowMs) }
        }
    }

    /// The audit head, retained, when it changed, at most every 10 s.
    func auditHeadLoop() async {
        while !Task.isCancelled {
            publishAuditHeadIfDue(force: false)
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Checkpoints the WAL every second on a thread of its own: commits never do it (the store
    /// is opened with background checkpoints), so no grant waits for the database file's sync.
    func checkpointLoop() async {
        let queue = DispatchQueue(label: "access-gateway.checkpoint", qos: .utility)
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            let store = self.store
            let failure = await withCheckedContinuation { (continuation: CheckedContinuation<String?, Never>) in
                queue.async {
                    do {
                        try store.checkpointPassively()
                        continuation.resume(returning: nil)
                    } catch {
                        continuation.resume(returning: "\(error)")
                    }
                }
            }
            if let failure {
                logger.warning("WAL checkpoint failed (retried in 1 s)", metadata: ["error": "\(failure)"])
            }
        }
    }

    func publishAuditHeadIfDue(force: Bool) {
        let head = auditLog.head
        let nowMs = Clock.nowMs()
        let due = state.withLock { state -> Bool in
            guard head.seq > 0, state.lastHeadPublished != head else { return false }
            guard force || nowMs - state.lastHeadPublishMs >= 10_000 else { return false }
            state.lastHeadPublished = head
            state.lastHeadPublishMs = nowMs
            return true
        }
        guard due else { return }
        metrics.auditHeadSeq.record(head.seq)
        let payload = CanonicalJSON.object([
            ("seq", .integer(head.seq)), ("hash", .string(head.hash)), ("ts", .integer(head.timestampMs)),
        ])
        publish(MQTTMessage(topic: topics.auditHead(gatewayID: gatewayID), payload: payload, retain: true))
    }

    func connectionStateLoop() async {
        for await state in client.connectionStates() {
            switch state {
            case .connected:
                metrics.brokerConnected.record(1)
                logger.info("broker connected")
                // The retained status may have been replaced by our Last Will while we were away.
                publish(
                    MQTTMessage(
                        topic: topics.gatewayStatus(gatewayID: gatewayID),
                        payload: CanonicalJSON.object([
                            ("online", .bool(true)), ("gatewayId", .string(gatewayID)), ("ts", .integer(Clock.nowMs())),
                        ]), retain: true))
            case .disconnected(let reason, _):
                metrics.brokerConnected.record(0)
                logger.warning("broker connection lost", metadata: ["reason": "\(reason)"])
            case .shutDown:
                metrics.brokerConnected.record(0)
                return
            default:
                break
            }
        }
    }

    // MARK: Health and operations

    /// Nil when healthy: connected to the broker and the store writable.
    func healthProblem() -> String? {
        guard client.isConnected else { return "broker not connected" }
        do { try store.checkWritable() } catch { return "store not writable: \(error)" }
        return nil
    }

    func refreshGauges() {
        let (locks, poles) = monitor.withLock { ($0.onlineLocks, $0.onlinePoles) }
        metrics.locksOnline.record(locks)
        metrics.polesOnline.record(poles)
        metrics.brokerConnected.record(client.isConnected ? 1 : 0)
        metrics.auditHeadSeq.record(auditLog.head.seq)
        metrics.inboundDropped.record(client.statistics.inboundDropped)
    }

    /// SIGHUP: new policy, issuers, inventory and keys; the broker and the database stay.
    func reload(_ loaded: GatewayConfiguration) throws {
        var fresh = loaded
        let current = configuration
        guard fresh.site.id == current.site.id, fresh.topicPrefix == current.topicPrefix,
            fresh.gatewayID == current.gatewayID
        else { throw ConfigurationError("site.id", "site, topic prefix and gateway id change only with a restart") }
        let keys = try AccessGatewayService.loadKeys(fresh)
        try fresh.settleInventory(with: store)
        engine.reload(AccessGatewayService.engineConfiguration(fresh, keys: keys))
        let nowMs = Clock.nowMs()
        monitor.withLock {
            $0.replaceSite(fresh.site, nowMs: nowMs)
            $0.policy = fresh.alarms
            $0.unlockForS = fresh.policy.unlockForS
        }
        state.withLock {
            $0.configuration = fresh
            $0.keys = keys
            $0.poleKeys = Self.poleKeys(fresh, keys)
            $0.operatorKey = OperatorUnlock.operatorKey(siteKey: keys.siteKey, siteID: fresh.site.id)
        }
    }

    /// Graceful stop: stop taking requests, finish those in flight (their decisions are
    /// audited and published), publish the final audit head and an offline status, disconnect.
    func shutdown() async {
        // Each step is bounded: with the broker gone, nothing is waited for forever.
        let client = self.client
        let filter = requestFilter
        if await !Self.bounded(.seconds(3), { try await client.unsubscribe(filter) }) {
            logger.warning("could not unsubscribe from requests before stopping")
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while inFlight.load(ordering: .acquiring) > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        publishAuditHeadIfDue(force: true)
        if await !Self.bounded(.seconds(3), { try await self.publishStatus(online: false) }) {
            logger.warning("could not publish the offline status before stopping (the Last Will covers it)")
        }
        await client.shutdown()
    }

    /// Runs `operation` for at most `limit`; false when it failed or ran out of time. The
    /// operation is not awaited past the limit (the client's shutdown fails it afterwards).
    static func bounded(_ limit: Duration, _ operation: @escaping @Sendable () async throws -> Void) async -> Bool {
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
}
