import AccessCore
import AccessEngine
import AccessProtocol
import AccessSharedStore
import AccessStore
import Logging
import MQTT
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What every service of one gateway shares: its identity and topics, the settings in force, the
/// store, the audit log, the engine, the site monitor, the publisher, the metrics and the clock.
public final class GatewayContext: Sendable {
    public let gatewayID: String
    public let topics: SiteTopics
    public let settings: GatewaySettings
    public let store: AccessStore
    public let auditLog: AuditLog
    public let engine: AccessEngine
    public let publisher: any MessagePublisher
    public let logger: Logger
    let metrics: GatewayMetrics
    let monitor: SiteMonitor
    /// (v1.1) Set when the published audit head is not in the store (`AuditHeadCheck`).
    let auditHeadProblem = Mutex<String?>(nil)
    /// While true the maintenance service publishes no audit head: the daemon holds it until the
    /// head retained on the broker has been read, so that the check compares with the last one.
    let holdAuditHead = Mutex(false)
    let auditHeadInbox = AuditHeadInbox()
    /// Why the broker refused the request subscription (its rules lack this gateway's grant):
    /// no lock is heard, so the gateway is not ready and `/healthz` says so.
    let requestSubscriptionProblem = Mutex<String?>(nil)
    /// The store probe's last finding (`MaintenanceService`, every 2 s; `/healthz`, watchdog).
    let storeHealth: Mutex<AccessStore.Health>
    /// Wall-clock Unix milliseconds (decisions, commands, audit records).
    let nowMs: @Sendable () -> Int64
    /// What the connection's outbound queue could not take (full while the broker is slow or
    /// away): counted as the `outbound` lane, logged at most every 10 s.
    let outboundDrops: DropReporter
    /// Dialect locks' outstanding unlocks (device profiles).
    let pendingUnlocks = PendingUnlocks()
    /// What device reports tell the PIN push (slot statuses, keypad opens, reconnects).
    let pinPushInbox = PINPushInbox()
    /// The database several gateways share (`database.kind: postgres`), nil with SQLite alone.
    let sharedStore: SharedStore?
    /// Why the shared database cannot be decided against now (`SharedDatabaseService`); every
    /// decision is denied `internal_error` meanwhile and `/healthz` says why.
    let sharedDatabaseProblem = Mutex<String?>("connecting")
    /// Booking messages on their way into the shared database.
    let sharedBookingMirror = SharedBookingMirror()

    public init(
        settings: GatewaySettings, store: AccessStore, auditLog: AuditLog, engine: AccessEngine,
        publisher: any MessagePublisher, logger: Logger, nowMs: @escaping @Sendable () -> Int64 = WallClock.nowMs,
        sharedStore: SharedStore? = nil
    ) {
        self.sharedStore = sharedStore
        let configuration = settings.configuration
        self.gatewayID = configuration.gatewayID
        self.topics = SiteTopics(prefix: configuration.topicPrefix, siteID: configuration.site.id)
        self.settings = settings
        self.store = store
        self.auditLog = auditLog
        self.engine = engine
        self.publisher = publisher
        self.logger = logger
        self.nowMs = nowMs
        let metrics = GatewayMetrics()
        self.metrics = metrics
        auditLog.observeCommits { _, nanoseconds in metrics.auditCommitLatency.recordNanoseconds(nanoseconds) }
        let outboundDrops = DropReporter(lane: "outbound", logger: logger)
        self.outboundDrops = outboundDrops
        self.storeHealth = Mutex(store.probe(minimumFreeBytes: configuration.minimumFreeBytes, nowMs: nowMs()))
        self.monitor = SiteMonitor(
            configuration: configuration, startMs: nowMs(), publisher: publisher, topics: topics, settings: settings,
            metrics: metrics, logger: logger, nowMs: nowMs, outboundDrops: outboundDrops)
    }

    /// Publishes without waiting; a failure is logged, never thrown at a caller mid-decision.
    func publish(_ message: MQTTMessage) {
        publisher.publish(message, countingDropsIn: outboundDrops, logger: logger)
    }
}

public enum WallClock {
    @Sendable public static func nowMs() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
