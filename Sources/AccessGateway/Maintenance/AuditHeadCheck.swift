import AccessProtocol
import AccessStore
import MQTT

/// (v1.1) At start, before any decision: the audit head this gateway last published (retained
/// on the broker) must be a record of its store. If it is not, the chain was cut short or
/// rewritten while the gateway was stopped, which re-walking the shortened chain cannot show: an
/// `audit_truncated` alarm with both heads, `/healthz` says so (degraded), and deciding goes on,
/// the chain continuing from the store's last record.
enum AuditHeadCheck {
    /// How long the retained head may take to arrive after the subscription; none arriving means
    /// this gateway never published one (a first start).
    static let retainedWait: Duration = .milliseconds(1500)

    /// The problem, or nil when the store holds the published head (or none was published).
    /// `storeHead` is the audit log's own head, named in the problem.
    static func problem(
        published: (seq: Int64, hash: String)?, store: AccessStore, storeHead: AuditLog.AuditHead
    ) -> String? {
        guard let published else { return nil }
        let stored: String?
        do {
            stored = try store.auditHash(atSeq: published.seq)
        } catch {
            return "the store could not be read to check the published audit head: \(error)"
        }
        guard stored != published.hash else { return nil }
        let local = storeHead.seq == 0 ? "no records" : "seq \(storeHead.seq) hash \(storeHead.hash)"
        return "published audit head seq \(published.seq) hash \(published.hash) is not in the store "
            + "(store head: \(local)): the chain was cut short or rewritten while the gateway was stopped"
    }

    /// Subscribes the device connection to the gateway's own audit head, waits for the retained
    /// one (routed to `context.auditHeadInbox`), unsubscribes, then compares it with the store.
    static func run(context: GatewayContext, client: MQTTClient) async {
        // Whatever happens, the audit head is published again afterwards.
        defer { context.holdAuditHead.withLock { $0 = false } }
        let topic = context.topics.auditHead(gatewayID: context.gatewayID)
        let payload: [UInt8]?
        do {
            try await client.subscribe(topic, qos: .atLeastOnce)
            payload = await context.auditHeadInbox.wait(timeout: retainedWait)
            try? await client.unsubscribe(topic)
        } catch {
            context.logger.warning(
                "could not read the published audit head; the chain is not checked at this start",
                metadata: ["error": "\(error)"])
            return
        }
        let published = payload.flatMap { GatewayMessages.parseAuditHead($0) }
        guard let problem = problem(published: published, store: context.store, storeHead: context.auditLog.head)
        else {
            context.logger.info("audit head checked", metadata: ["publishedSeq": "\(published?.seq ?? 0)"])
            return
        }
        context.auditHeadProblem.withLock { $0 = problem }
        context.monitor.raise(Alarm(kind: .auditTruncated, timestampMs: context.nowMs(), detail: problem))
        context.logger.critical("audit chain cut short while stopped", metadata: ["detail": "\(problem)"])
    }
}
