import AccessCore
import AccessEngine
import AccessProtocol
import AccessStore
import Foundation
import Logging
import MQTT
import Metrics
import ServiceLifecycle

/// Access requests: the path from a lock's request to its decision and command.
///
/// The router puts each request in its lock's FIFO lane (`RequestLanes`); `workers` workers take
/// the locks round-robin, one request of a lock at a time, and for each: the engine decides and
/// commits the audit record, then the decision (and its copy to an acceptable v5 response topic)
/// is published, then the grant's command. So one lock's decisions and commands leave in its
/// requests' order, different locks are decided concurrently (and batch their audit commits),
/// and a flooding lock holds at most its lane's capacity.
public final class RequestService: Service, Sendable {
    /// Requests waiting per lock; beyond it that lock's requests are dropped (counted).
    public static let perLockCapacity = 64
    /// Requests waiting in all; five seconds at a 2-core gateway's saturation rate: nobody waits
    /// longer at a door, so a deeper backlog would only cost memory.
    public static let totalCapacity = 10_000
    /// Requests decided at once: enough for the audit log's group commit to fill its batches.
    public static let workers = 128
    /// Threads the workers run on: one per core, so a commit blocking one leaves the others deciding.
    static let decisionThreads = max(2, ProcessInfo.processInfo.activeProcessorCount)

    let context: GatewayContext
    let lanes: RequestLanes
    let answers = AnswerBudget()
    private let drops: DropReporter
    /// Called once on graceful shutdown, before the lanes drain: stop taking requests (unsubscribe).
    private let stopIntake: @Sendable () async -> Void

    init(context: GatewayContext, lanes: RequestLanes, stopIntake: @escaping @Sendable () async -> Void) {
        self.context = context
        self.lanes = lanes
        self.drops = DropReporter(lane: "requests", logger: context.logger)
        self.stopIntake = stopIntake
    }

    static func makeLanes() -> RequestLanes {
        RequestLanes(perLockCapacity: perLockCapacity, totalCapacity: totalCapacity)
    }

    /// Called by the router (on the network thread): never waits.
    func offer(_ message: MQTTMessage, lockID: String, profileKind: ProfileInbound? = nil) {
        guard Identifier.isValid(lockID) else {
            context.metrics.drop("invalid_lock_id")
            return
        }
        let request = RequestLanes.Request(
            message: message, receivedNs: DispatchTimeNow.nanoseconds(), profileKind: profileKind)
        switch lanes.offer(request, lockID: lockID) {
        case .queued: break
        case .queuedEvicting: drops.dropped("evicted")
        case .lockFull: drops.dropped("lock_full")
        case .full: drops.dropped("full")
        }
    }

    public func run() async throws {
        // The workers run on threads of their own, where a decision may commit its audit record
        // itself (no hop to the audit writer and back) without blocking the cooperative pool.
        let threads = DecisionThreads(count: Self.decisionThreads)
        defer { threads.shutdown() }
        await withGracefulShutdownHandler {
            await withTaskExecutorPreference(threads) {
                await withDiscardingTaskGroup { group in
                    for _ in 0..<Self.workers {
                        group.addTask { await AuditLog.$mayCommitInline.withValue(true) { await self.work() } }
                    }
                }
            }
        } onGracefulShutdown: {
            Task {
                await self.stopIntake()
                self.lanes.close()
            }
        }
    }

    private func work() async {
        // Cancelled (a stop that ran past its graceful time): what is still queued stays unanswered
        // (its locks ask again); what was taken is decided and published whole.
        while !Task.isCancelled, let (lockID, request) = await lanes.next() {
            await decide(
                request.message, lockID: lockID, receivedNs: request.receivedNs, profileKind: request.profileKind)
            lanes.finish(lockID: lockID)
        }
    }

    /// Decides one request and publishes its decision and command (in that order).
    func decide(_ message: MQTTMessage, lockID: String, receivedNs: UInt64, profileKind: ProfileInbound? = nil) async {
        let metrics = context.metrics
        let waitedNs = Int64(clamping: DispatchTimeNow.nanoseconds() &- receivedNs)
        metrics.laneWait.recordNanoseconds(waitedNs)
        let started = ContinuousClock.now
        let nowMs = context.nowMs()
        let result: AccessResult
        if let profileKind {
            // A code or card a dialect reader read: translated, then decided like any request.
            guard let request = Self.profileRequest(message.payload, kind: profileKind, context: context) else {
                // Not a reading at all (a Tasmota SENSOR with other sensors only): nothing to decide.
                return
            }
            result = await context.engine.handle(
                lockID: lockID, profileRequest: request, nowMs: nowMs, queuedMs: waitedNs / 1_000_000)
        } else {
            result = await context.engine.handle(
                lockID: lockID, payload: message.payload, nowMs: nowMs, queuedMs: waitedNs / 1_000_000)
        }
        guard case .decided(let decided) = result else {
            metrics.drop("invalid_lock_id")
            return
        }
        metrics.requests[decided.decision.reason]?.increment()
        if decided.decision.reason == .malformed || decided.decision.reason == .internalError
            || decided.detail?.hasPrefix("audit:") == true
        {
            context.logger.warning(
                "request denied",
                metadata: [
                    "lock": "\(lockID)", "reason": "\(decided.decision.reason.rawValue)",
                    "detail": "\(decided.detail ?? "")",
                ])
        }
        if mayPublish(decided.decision.reason, lockID: lockID, nowMs: nowMs) {
            publish(decided, request: message, lockID: lockID)
        }
        metrics.decisionLatency.recordInterval(since: started)
        context.monitor.liveState.decided(
            lockID: lockID, granted: decided.decision.granted, reason: decided.decision.reason.rawValue, ts: nowMs,
            holderTag: decided.audit?.record.holder.map(context.settings.holderTag))
        if let durationS = decided.lockoutStartedS {
            context.monitor.update { $0.lockoutStarted(lockID: lockID, durationS: durationS, nowMs: nowMs) }
        }
        if decided.decision.granted {
            context.monitor.update { $0.granted(lockID: lockID, nowMs: nowMs) }
        }
    }

    /// Refusals made before any work are answered within the lock's request budget (see
    /// `AnswerBudget`), and no refusal is queued behind a congested connection (`OutboundBudget`);
    /// grants and `busy` always go.
    private func mayPublish(_ reason: DecisionReason, lockID: String, nowMs: Int64) -> Bool {
        // `busy` is the explicit answer of a shedding gateway: it always goes, like a grant.
        if reason != .granted, reason != .busy, context.publisher.outboundBacklog > OutboundBudget.refusalBacklog {
            context.metrics.withheldAnswers[reason]?.increment()
            return false
        }
        let key: String
        switch reason {
        case .rateLimited: key = lockID
        case .unknownLock: key = AnswerBudget.unknownLocksKey
        default: return true
        }
        let ratePerS = context.settings.policy.maxRequestsPerS
        guard answers.allows(lockID: key, ratePerS: ratePerS, nowMs: nowMs) else {
            context.metrics.withheldAnswers[reason]?.increment()
            return false
        }
        return true
    }

    /// The decision (and its copy to an acceptable v5 response topic), then the command. The
    /// audit record is already committed when this runs.
    private func publish(_ decided: AccessDecided, request: MQTTMessage, lockID: String) {
        let topics = context.topics
        let payload = Array(decided.decision.payload.utf8)
        // (project choice) A decision expires with the command TTL: one that could not reach
        // the lock by then (a broker slow or away) is of no use to it, it has asked again.
        var expiring = MQTTPublishProperties()
        expiring.messageExpiryInterval = UInt32(
            clamping: (context.settings.policy.commandTTLMs + 999) / 1000)
        context.publish(MQTTMessage(topic: topics.decision(lockID: lockID), payload: payload, properties: expiring))
        if let responseTopic = request.properties.responseTopic {
            if topics.isAcceptableResponseTopic(responseTopic, lockID: lockID) {
                var properties = expiring
                properties.correlationData = request.properties.correlationData
                context.publish(MQTTMessage(topic: responseTopic, payload: payload, properties: properties))
            } else {
                context.metrics.ignoredResponseTopics.increment()
            }
        }
        if let command = decided.command {
            publishCommand(command, lockID: lockID, context: context)
        }
    }

    /// A dialect reading as a request: a fresh request id (the reader names none), its code or
    /// card, or `malformed` naming what did not parse; nil when the message holds no reading, and
    /// counted as dropped when it does not match the dialect.
    static func profileRequest(
        _ payload: [UInt8], kind: ProfileInbound, context: GatewayContext
    ) -> Result<AccessRequest, MalformedRequest>? {
        guard
            let reading = ProfileReading.parse(
                payload, kind: kind, pinDigits: context.settings.policy.pinDigits)
        else {
            context.metrics.drop("malformed_profile")
            return nil
        }
        guard let credential = reading.credential else { return nil }
        let requestID = Identifier.random(prefix: "d-")
        switch credential {
        case .success(let credential):
            return .success(AccessRequest(requestID: requestID, credential: credential))
        case .failure(let problem):
            return .failure(MalformedRequest(requestID: requestID, problem: problem.problem))
        }
    }
}

/// Publishes a grant's unlock with the command's lifetime as Message Expiry, unless it is already
/// past `notAfter` (then it is dropped and counted: a stale command must never reach a lock). A
/// contract lock gets the signed command; a device-profile lock the same unlock in its dialect
/// (`ProfileCommands`), whoever granted it (a request, an operator, Home Assistant).
func publishCommand(_ command: LockCommand, lockID: String, context: GatewayContext) {
    let lock = context.settings.lock(lockID)
    var message = MQTTMessage(topic: context.topics.command(lockID: lockID), payload: command.payload)
    if let lock, lock.profile != .contract {
        guard let device = lock.device,
            let (topic, payload) = ProfileCommands.unlock(
                lock.profile, device: device, unlockForS: context.settings.policy.unlockForS,
                topics: context.settings.profileTopics)
        else { return }
        message = MQTTMessage(topic: topic, payload: payload)
    }
    guard let expiry = command.messageExpiryS(nowMs: context.nowMs()) else {
        context.metrics.staleCommands.increment()
        context.logger.warning("command dropped: already past notAfter", metadata: ["command": "\(command.commandID)"])
        return
    }
    message.properties.messageExpiryInterval = expiry
    context.monitor.update {
        $0.commandIssued(lockID: lockID, commandID: command.commandID, notAfterMs: command.notAfterMs)
        return []
    }
    if lock.map({ $0.profile != .contract }) == true {
        // The device's own confirmation is matched to this unlock (`DeviceReportService`).
        context.pendingUnlocks.issued(lockID: lockID, commandID: command.commandID, notAfterMs: command.notAfterMs)
    }
    context.publish(message)
    context.metrics.commandsPublished.increment()
}

extension Timer {
    func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = (ContinuousClock.now - start).components
        recordNanoseconds(elapsed.seconds * 1_000_000_000 + elapsed.attoseconds / 1_000_000_000)
    }
}
