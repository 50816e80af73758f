import AccessProtocol
import AccessStore
import Dispatch
import Logging
import MQTT
import ServiceLifecycle
import Synchronization

/// Periodic work: the device monitor's tick (offline locks, doors ajar, overstay) and, once a
/// minute, forgetting idle admission state; the audit head, retained, when it changed and at most
/// every 10 s (and once more at shutdown); WAL checkpoints every second on a thread of their own,
/// so that no commit waits for the database file's sync.
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
        publishAuditHeadIfDue(force: true)
    }

    private func tickLoop() async {
        var ticks = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            let nowMs = context.nowMs()
            context.monitor.update { $0.tick(nowMs: nowMs) }
            ticks += 1
            if ticks % 60 == 0 {
                context.engine.forgetIdleAdmissionState(nowMs: nowMs)
                for sweep in minuteSweeps { sweep(nowMs) }
            }
        }
    }

    private func auditHeadLoop() async {
        while !Task.isCancelled {
            publishAuditHeadIfDue(force: false)
            try? await Task.sleep(for: .seconds(1))
        }
    }

    private func checkpointLoop() async {
        let store = context.store
        let queue = checkpointQueue
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            let failure = await withCheckedContinuation { (continuation: CheckedContinuation<String?, Never>) in
                queue.async {
                    do {
                        _ = try store.checkpointPassively()
                        continuation.resume(returning: nil)
                    } catch {
                        continuation.resume(returning: "\(error)")
                    }
                }
            }
            if let failure {
                context.logger.warning("WAL checkpoint failed (retried in 1 s)", metadata: ["error": "\(failure)"])
            }
        }
    }

    func publishAuditHeadIfDue(force: Bool) {
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
