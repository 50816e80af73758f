import AccessProtocol
import AccessStore
import Dispatch
import Logging
import MQTT
import ServiceLifecycle
import Synchronization

/// Periodic work: the device monitor's tick (offline locks, doors ajar, overstay) and, once a
/// minute, forgetting idle admission state; the audit head, retained, when it changed and at most
/// every 10 s (and once more at shutdown); WAL checkpoints every second and the store probe every
/// two, on a thread of their own, so that no commit waits for the database file's sync.
public final class MaintenanceService: Service, Sendable {
    let context: GatewayContext
    private let lastHead = Mutex<(head: AuditLog.AuditHead?, publishedMs: Int64)>((nil, 0))
    private let checkpointQueue = DispatchQueue(label: "access-gateway.checkpoint", qos: .utility)

    /// Once a minute, besides the engine's idle admission state: what other services keep per
    /// lock and can forget once it is back to a new lock's.
    private let minuteSweeps: [@Sendable (_ nowMs: Int64) -> Void]

    init(context: GatewayContext, minuteSweeps: [@Sendable (_ nowMs: Int64) -> Void] = []) {
        self.context = context
        self.minuteSweeps = minuteSweeps
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.tickLoop() }
            group.addTask { await self.auditHeadLoop() }
            group.addTask { await self.checkpointLoop() }
            try? await gracefulShutdown()
            group.cancelAll()
        }
        // Refusal windows still open are committed early rather than lost.
        await commitRefusalTallies(all: true)
        publishAuditHeadIfDue(force: true)
    }

    private func tickLoop() async {
        var ticks = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            let nowMs = context.nowMs()
            context.monitor.update { $0.tick(nowMs: nowMs) }
            await commitRefusalTallies(all: false)
            await applyAlarmAcknowledgements()
            ticks += 1
            // Every 10 s: at thousands of requests a second over 100k locks, a minute's worth of
            // cells (each full again a second after its lock's request) was 18 MB.
            if ticks % 10 == 0 { context.engine.forgetIdleAdmissionState(nowMs: nowMs) }
            if ticks % 60 == 0 {
                for sweep in minuteSweeps { sweep(nowMs) }
            }
        }
    }

    /// `accessctl alarms ack` writes a request to the store; the alarm ends here, with the
    /// operator's name and note (the history row and the request go in the next device batch).
    private func applyAlarmAcknowledgements() async {
        guard let acknowledgements = try? context.store.pendingAlarmAcknowledgements(), !acknowledgements.isEmpty
        else { return }
        for ack in acknowledgements {
            if context.monitor.acknowledge(alarmID: ack.alarmID, operatorName: ack.operatorName, note: ack.note) {
                continue
            }
            context.logger.warning(
                "alarm acknowledgement for an alarm not open here: dropped",
                metadata: ["alarm": "\(ack.alarmID)", "operator": "\(ack.operatorName)"])
            try? await context.store.dropAlarmAcknowledgement(alarmID: ack.alarmID)
        }
    }

    /// (v1.1) The per-minute `rate_limited` and `busy` records whose window closed.
    private func commitRefusalTallies(all: Bool) async {
        if let failure = await context.engine.commitRefusalTallies(nowMs: context.nowMs(), all: all) {
            context.logger.error("per-minute refusal records not committed", metadata: ["error": "\(failure)"])
        }
    }

    private func auditHeadLoop() async {
        while !Task.isCancelled {
            publishAuditHeadIfDue(force: false)
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Every second a checkpoint that keeps the WAL bounded (`AccessStore.maintainWAL`); every
    /// two seconds the store probe, whose finding `/healthz` and the watchdog report. Both on a
    /// thread of their own: they sync files.
    private func checkpointLoop() async {
        var seconds = 0
        var lastProblem: String?
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            seconds += 1
            let probing = seconds % 2 == 0
            let (checkpoint, health) = await onStoreThread { [context] in
                let checkpoint = Result { try context.store.maintainWAL() }
                let health =
                    probing
                    ? context.store.probe(
                        minimumFreeBytes: context.settings.configuration.minimumFreeBytes, nowMs: context.nowMs())
                    : nil
                return (checkpoint, health)
            }
            switch checkpoint {
            case .success(let report):
                context.metrics.walBytes.record(Int64(clamping: report.walBytesAfter))
                if report.mode == .restart {
                    context.metrics.walRestarts.increment()
                }
            case .failure(let error):
                context.logger.warning("WAL checkpoint failed (retried in 1 s)", metadata: ["error": "\(error)"])
            }
            guard let health else { continue }
            context.storeHealth.withLock { $0 = health }
            context.metrics.storeHealthy.record(health.isHealthy ? 1 : 0)
            if let free = health.freeBytes { context.metrics.storeFreeBytes.record(Int64(clamping: free)) }
            if health.problem != lastProblem {
                if let problem = health.problem {
                    context.logger.critical("store cannot commit", metadata: ["reason": "\(problem)"])
                } else {
                    context.logger.notice("store commits again")
                }
                lastProblem = health.problem
            }
        }
    }

    private func onStoreThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            checkpointQueue.async { continuation.resume(returning: work()) }
        }
    }

    func publishAuditHeadIfDue(force: Bool) {
        guard !context.holdAuditHead.withLock({ $0 }) else { return }
        let head = context.auditLog.head
        let nowMs = context.nowMs()
        let due = lastHead.withLock { last -> Bool in
            guard head.seq > 0, last.head != head else { return false }
            guard force || nowMs - last.publishedMs >= 10_000 else { return false }
            last = (head, nowMs)
            return true
        }
        guard due else { return }
        context.metrics.auditHeadSeq.record(head.seq)
        context.publish(
            MQTTMessage(
                topic: context.topics.auditHead(gatewayID: context.gatewayID),
                payload: GatewayMessages.auditHead(seq: head.seq, hash: head.hash, ts: head.timestampMs),
                retain: true))
    }
}
