import AccessCore
import AccessProtocol
import Logging
import MQTT
import ServiceLifecycle
import Synchronization

/// Operators' remote unlocks (a project extension, `R/gateway/<gatewayId>/operator/unlock`):
/// MAC-checked, fresh, never replayed within the freshness window, audited with the operator and
/// note before the command is published. A small FIFO lane: an operator sends a few a minute.
public final class OperatorService: Service, Sendable {
    public static let capacity = 64

    let context: GatewayContext
    let lane = FIFOLane<MQTTMessage>(capacity: OperatorService.capacity)
    private let drops: DropReporter
    /// Operator request ids seen in the last two freshness windows (replay protection).
    private let seen = Mutex<[String: Int64]>([:])

    init(context: GatewayContext) {
        self.context = context
        self.drops = DropReporter(lane: "operator", logger: context.logger)
    }

    func offer(_ message: MQTTMessage) {
        if !lane.offer(message) { drops.dropped("full") }
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            while let message = await lane.next() { await handle(message) }
        } onGracefulShutdown: {
            self.lane.close()
        }
    }

    func handle(_ message: MQTTMessage) async {
        if case .homeAssistantSet(let gatewayID, let lockID)? = context.topics.classify(message.topic) {
            return await handleHomeAssistant(message, gatewayID: gatewayID, lockID: lockID)
        }
        let nowMs = context.nowMs()
        let snapshot = context.settings.current
        let siteID = snapshot.configuration.site.id
        let reply: String
        switch OperatorUnlock.verify(
            message.payload, siteID: siteID, gatewayID: context.gatewayID, operatorKey: snapshot.operatorKey,
            nowMs: nowMs)
        {
        case .failure(let problem):
            context.logger.warning("operator unlock refused", metadata: ["reason": "\(problem.problem)"])
            reply = GatewayMessages.operatorReply(
                requestID: problem.requestID, granted: false, reason: "refused", detail: problem.problem)
        case .success(let unlock):
            let fresh = seen.withLock { seen -> Bool in
                seen = seen.filter { nowMs - $0.value < 2 * OperatorUnlock.freshnessMs }
                return seen.updateValue(nowMs, forKey: unlock.requestID) == nil
            }
            // Across a restart the memory is gone; the audit log is not: a request id already
            // audited for this lock within the window is a replay (fail secure on a store error).
            var audited =
                (try? context.store.hasOperatorRecord(
                    lockID: unlock.lockID, requestID: unlock.requestID,
                    sinceMs: nowMs &- 2 * OperatorUnlock.freshnessMs)) ?? true
            // Several gateways on one database: the request id is accepted once among them all
            // (a replay to another gateway is refused); a database that does not answer refuses.
            if !audited, let shared = context.sharedStore {
                let accepted = try? await shared.acceptOperatorRequest(
                    unlock.requestID, gatewayID: context.gatewayID, nowMs: nowMs)
                audited = accepted != true
            }
            guard fresh, !audited else {
                context.logger.warning(
                    "operator unlock refused: replayed", metadata: ["request": "\(unlock.requestID)"])
                return
            }
            let decided = await context.engine.operatorUnlock(unlock, nowMs: nowMs)
            context.logger.notice(
                "operator unlock",
                metadata: [
                    "lock": "\(unlock.lockID)", "operator": "\(unlock.operatorName)", "note": "\(unlock.note)",
                    "reason": "\(decided.decision.reason.rawValue)", "auditSeq": "\(decided.audit?.seq ?? 0)",
                ])
            if let command = decided.command {
                publishCommand(command, lockID: unlock.lockID, context: context)
                context.monitor.update { $0.granted(lockID: unlock.lockID, nowMs: nowMs) }
            }
            reply = GatewayMessages.operatorReply(
                requestID: unlock.requestID, granted: decided.decision.granted,
                reason: decided.decision.reason.rawValue, commandID: decided.command?.commandID,
                auditSeq: decided.audit?.seq)
        }
        var properties = MQTTPublishProperties()
        properties.correlationData = message.properties.correlationData
        let target = context.topics.operatorReplyTopic(
            requested: message.properties.responseTopic, gatewayID: context.gatewayID)
        context.publish(MQTTMessage(topic: target, payload: reply, properties: properties))
    }

    /// Home Assistant's lock entity (`homeAssistant.remoteOpen`): `UNLOCK` or `OPEN` on this
    /// gateway's set topic for a lock of the inventory becomes an operator unlock by
    /// `home-assistant`, audited before its command. The broker is what authenticates it: only
    /// Home Assistant's user may publish there (`accessctl broker dynsec --home-assistant`).
    /// `LOCK` is acknowledged and ignored: the lock relocks by itself.
    func handleHomeAssistant(_ message: MQTTMessage, gatewayID: String, lockID: String) async {
        let configuration = context.settings.current.configuration
        guard configuration.homeAssistant.enabled, configuration.homeAssistant.remoteOpen,
            gatewayID == context.gatewayID, configuration.site.locks[lockID] != nil
        else {
            context.metrics.drop("unknown_topic")
            return
        }
        let command = String(decoding: message.payload.prefix(16), as: UTF8.self)
        guard command == "UNLOCK" || command == "OPEN" else {
            if command != "LOCK" { context.metrics.drop("malformed_event") }
            return
        }
        let nowMs = context.nowMs()
        let snapshot = context.settings.current
        let unlock = OperatorUnlock(
            siteID: configuration.site.id, gatewayID: context.gatewayID, requestID: Identifier.random(prefix: "ha-"),
            lockID: lockID, operatorName: "home-assistant", note: "Home Assistant remote open", issuedAtMs: nowMs,
            operatorKey: snapshot.operatorKey)
        let decided = await context.engine.operatorUnlock(unlock, nowMs: nowMs)
        context.logger.notice(
            "operator unlock",
            metadata: [
                "lock": "\(lockID)", "operator": "home-assistant",
                "reason": "\(decided.decision.reason.rawValue)", "auditSeq": "\(decided.audit?.seq ?? 0)",
            ])
        if let command = decided.command {
            publishCommand(command, lockID: lockID, context: context)
            context.monitor.update { $0.granted(lockID: lockID, nowMs: nowMs) }
        }
        context.monitor.liveState.decided(
            lockID: lockID, granted: decided.decision.granted, reason: decided.decision.reason.rawValue, ts: nowMs)
    }
}
