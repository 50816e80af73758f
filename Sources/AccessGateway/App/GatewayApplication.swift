import AccessConfiguration
import AccessCore
import AccessEngine
import AccessProtocol
import AccessSharedStore
import AccessStore
import Crypto
import Foundation
import Logging
import MQTT
import Metrics
import ServiceLifecycle
import Synchronization

/// The engine's gate on the shared database: the context (made after the engine) says whether
/// decisions may read it now.
final class SharedProblemBox: Sendable {
    let context = Mutex<GatewayContext?>(nil)

    func problem() -> String? {
        guard let context = context.withLock({ $0 }) else { return "starting" }
        return context.sharedDatabaseProblem.withLock { $0 }
    }
}

/// The daemon, assembled: opens the store and the audit log, builds the engine, the two MQTT
/// connections and the services, and lists them in the order the ServiceGroup starts them (it
/// stops them in reverse):
///
/// 1. `DeviceConnectionService`: the device connection and the gateway's status;
/// 2. `BookingService`: booking messages, on a connection of their own;
/// 3. `MaintenanceService`: monitor ticks, the audit head, WAL checkpoints;
/// 4. `DeviceReportService`: lock events and statuses, pole telemetry and statuses, dialect
///    devices' reports (device profiles);
/// 4b. `PINPushService`: PINs written ahead into Zigbee locks' slots;
/// 5. `OperatorService`: operators' remote unlocks;
/// 6. `RequestService`: access requests, in per-lock lanes;
/// 7. `HTTPService`: `/healthz` and `/metrics` (when `http.listen` is set);
/// 8. `SupervisorService`: systemd readiness and watchdog, SIGHUP reloads.
///
/// So a graceful stop first stops taking requests and finishes those queued, then publishes
/// the final audit head, then the offline status, then disconnects.
public final class GatewayApplication: Sendable {
    public let context: GatewayContext
    public let services: [any Service]
    let configurationPath: String
    let environment: [String: String]
    let readiness = Readiness()
    let deviceConnection: DeviceConnectionService
    let bookings: BookingService
    public let http: HTTPService?

    public init(
        configurationPath: String, configuration loaded: GatewayConfiguration, environment: [String: String],
        logger: Logger, initializeStore: Bool = false, metricsText: @escaping @Sendable () -> [UInt8]
    ) throws {
        self.configurationPath = configurationPath
        self.environment = environment
        var configuration = loaded
        let keys = try Self.loadKeys(configuration)
        let store = try Self.openStore(configuration, keys: keys, initialize: initializeStore)
        try configuration.settleInventory(with: store)
        let auditLog = try AuditLog(store: store)
        let sharedStore = try Self.openSharedStore(configuration, keys: keys, logger: logger)
        let problemBox = SharedProblemBox()
        let engine = AccessEngine(
            store: store, auditLog: auditLog,
            configuration: GatewaySettings.engineConfiguration(configuration, keys: keys),
            shared: sharedStore.map {
                SharedDecisions(store: $0, gatewayID: configuration.gatewayID, blocked: { problemBox.problem() })
            })
        logger.info(
            "store open",
            metadata: [
                "path": "\(configuration.databasePath)", "synchronous": "\(configuration.synchronous.rawValue)",
                "reservations": "\((try? store.reservationCount()) ?? -1)", "auditSeq": "\(auditLog.head.seq)",
            ])

        let settings = GatewaySettings(configuration: configuration, keys: keys)
        let slot = MessageHandlerSlot()
        var deviceConfiguration = try configuration.mqttConfiguration(for: .devices)
        deviceConfiguration.messageHandler = { slot.deliver($0) }
        deviceConfiguration.expiredHandler = Self.countExpired
        let client = try MQTTClient(configuration: deviceConfiguration, logger: logger)
        let context = GatewayContext(
            settings: settings, store: store, auditLog: auditLog, engine: engine, publisher: client, logger: logger,
            sharedStore: sharedStore)
        problemBox.context.withLock { $0 = context }
        // Until the device connection has read the retained head (`AuditHeadCheck`).
        context.holdAuditHead.withLock { $0 = true }
        self.context = context

        let requestFilter = DeviceConnectionService.requestFilter(
            topics: context.topics, sharedGroup: configuration.broker.sharedGroup)
        let workers = try GatewayServices(
            context: context, bookingConnection: configuration.mqttConfiguration(for: .bookings),
            stopIntake: { await DeviceConnectionService.unsubscribe(requestFilter, client: client, logger: logger) })
        slot.set { workers.receive($0) }
        let bookings = workers.bookings
        self.bookings = bookings
        let deviceConnection = DeviceConnectionService(
            context: context, client: client, readiness: readiness, bookingsReadiness: bookings.readiness)
        self.deviceConnection = deviceConnection

        var http: HTTPService?
        if let listen = configuration.httpListen {
            let health: @Sendable () -> HTTPService.Health = { [client, bookings, context] in
                if let problem = Self.healthProblem(devices: client, bookings: bookings, context: context) {
                    return .failing(problem)
                }
                if let audit = context.auditHeadProblem.withLock({ $0 }) {
                    return .degraded("audit_truncated: \(audit)")
                }
                let feed = bookings.feedStatus
                guard feed.isBehind else { return .ok }
                return .degraded(
                    "booking feed \(feed.lagMessages) messages behind for \(feed.lagSeconds) s "
                        + "(applied seq \(feed.appliedSeq)); deciding from the store")
            }
            let exposition: @Sendable () -> [UInt8] = { [context] in
                let (locks, poles) = context.monitor.read { monitor in
                    (monitor.lockIDs.compactMap(monitor.lockView), monitor.poleIDs.compactMap(monitor.poleView))
                }
                let extra = MetricsExposition.extra(
                    locks: locks, poles: poles, openAlarms: context.monitor.openAlarms.count)
                return MetricsExposition.render(registry: metricsText(), extra: extra)
            }
            var token: String?
            if let file = configuration.httpTokenFile {
                do { token = try StatusPageAccess.loadToken(path: file) } catch {
                    throw ConfigurationError("http.tokenFile", "\(error)")
                }
            }
            let status = HTTPService.StatusSource(
                snapshot: { [client, bookings, context] in
                    Self.statusSnapshot(context: context, bookings: bookings, devices: client, health: health())
                },
                version: { [context] in context.monitor.liveState.version.load(ordering: .relaxed) },
                access: StatusPageAccess(
                    token: token, loopbackListener: GatewayConfiguration.isLoopback(listen.host)))
            http = HTTPService(
                context: context, host: listen.host, port: listen.port, health: health, metricsText: exposition,
                status: status)
        }
        self.http = http
        var services: [any Service] = [deviceConnection] + workers.all
        if let http { services.append(http) }
        self.services = services
    }

    /// (v1.1) A command whose Message Expiry ran out while the connection was down is never sent
    /// (nor sent again): counted as stale; any other expired message as dropped.
    /// Made on first use, after `main` bootstrapped the metrics system; the handles are made once.
    static let countExpired: @Sendable (MQTTMessage) -> Void = {
        let stale = Counter(label: GatewayMetrics.staleCommandsLabel)
        let expired = Counter(label: "access_messages_dropped_total", dimensions: [("kind", "expired_unsent")])
        return { message in (message.topic.hasSuffix("/command") ? stale : expired).increment() }
    }()

    /// The supervisor comes last (it needs the application); `main` appends it.
    public func supervisor() -> SupervisorService {
        SupervisorService(application: self, environment: environment)
    }

    static func statusSnapshot(
        context: GatewayContext, bookings: BookingService, devices: MQTTClient, health: HTTPService.Health
    ) -> StatusPage.Snapshot {
        let monitor = context.monitor
        let (locks, poles) = monitor.read { monitor in
            (monitor.lockIDs.compactMap(monitor.lockView), monitor.poleIDs.compactMap(monitor.poleView))
        }
        var lastDecisions: [String: LiveStateMessages.LastDecision] = [:]
        for lock in locks { lastDecisions[lock.id] = monitor.liveState.lastDecision(lockID: lock.id) }
        let head = context.auditLog.head
        return StatusPage.Snapshot(
            gatewayID: context.gatewayID, siteID: context.settings.site.id, health: health, auditSeq: head.seq,
            auditHash: head.hash, auditProblem: context.auditHeadProblem.withLock { $0 }, feed: bookings.feedStatus,
            brokerConnected: devices.isConnected, locks: locks, lastDecisions: lastDecisions, poles: poles,
            alarms: monitor.openAlarms, recent: monitor.liveState.recentDecisions, nowMs: context.nowMs())
    }

    /// Nil when healthy: the store can commit (its last probe) and both connections are up.
    func healthProblem() -> String? {
        Self.healthProblem(devices: deviceConnection.client, bookings: bookings, context: context)
    }

    static func healthProblem(devices: MQTTClient, bookings: BookingService, context: GatewayContext) -> String? {
        if let problem = context.storeHealth.withLock({ $0.problem }) { return "store: \(problem)" }
        if context.sharedStore != nil, let problem = context.sharedDatabaseProblem.withLock({ $0 }) {
            return "database: \(problem)"
        }
        guard devices.isConnected else { return "broker: not connected" }
        if context.holdAuditHead.withLock({ $0 }) { return "broker: connecting (reading the published audit head)" }
        if let refused = context.requestSubscriptionProblem.withLock({ $0 }) {
            return "broker: request subscription refused (\(refused))"
        }
        guard bookings.isConnected else { return "broker: booking feed not connected" }
        return nil
    }

    /// SIGHUP: new policy, issuers, inventory and keys; the broker and the database stay.
    func reload(_ loaded: GatewayConfiguration) throws {
        var fresh = loaded
        let current = context.settings.configuration
        guard fresh.site.id == current.site.id, fresh.topicPrefix == current.topicPrefix,
            fresh.gatewayID == current.gatewayID
        else { throw ConfigurationError("site.id", "site, topic prefix and gateway id change only with a restart") }
        let keys = try Self.loadKeys(fresh)
        try fresh.settleInventory(with: context.store)
        context.engine.reload(GatewaySettings.engineConfiguration(fresh, keys: keys))
        context.monitor.replaceSite(fresh, nowMs: context.nowMs())
        context.monitor.liveState.everythingChanged()
        context.settings.replace(configuration: fresh, keys: keys)
        let deviceConnection = self.deviceConnection
        Task { await deviceConnection.reconcileProfileSubscriptions() }
    }

    /// The shared database (`database.kind: postgres`): its password from its credential file, TLS
    /// when a CA is given. Nothing is connected yet: `SharedDatabaseService` does that.
    static func openSharedStore(
        _ configuration: GatewayConfiguration, keys: GatewaySettings.Keys, logger: Logger
    ) throws -> SharedStore? {
        guard let shared = configuration.sharedDatabase else { return nil }
        let connection = try SharedStore.Configuration(shared)
        let pins = KeypadPIN(pinKey: keys.pinKey, siteID: configuration.site.id, digits: configuration.policy.pinDigits)
        return SharedStore(
            configuration: connection,
            pinIndex: PINIndex(pins: pins, pinKey: keys.pinKey), logger: logger)
    }

    /// Reads the key files, so a bad one refuses to start before anything else happens.
    public static func checkKeys(_ configuration: GatewayConfiguration) throws {
        _ = try loadKeys(configuration)
    }

    static func loadKeys(_ configuration: GatewayConfiguration) throws -> GatewaySettings.Keys {
        let siteKey: SymmetricKey
        let pinKey: SymmetricKey
        do { siteKey = try SecretKeyFile.load(path: configuration.siteKeyFile) } catch {
            throw ConfigurationError("keys.siteKeyFile", error.description)
        }
        do { pinKey = try SecretKeyFile.load(path: configuration.pinKeyFile) } catch {
            throw ConfigurationError("keys.pinKeyFile", error.description)
        }
        return GatewaySettings.Keys(siteKey: siteKey, pinKey: pinKey)
    }

    /// Opens the store in the state directory: made on a first start; refused when the directory
    /// held a store that is gone (unless `initialize`, the operator's `--init`) or when the file
    /// fails `quick_check`.
    static func openStore(
        _ configuration: GatewayConfiguration, keys: GatewaySettings.Keys, initialize: Bool
    ) throws -> AccessStore {
        let pins = KeypadPIN(pinKey: keys.pinKey, siteID: configuration.site.id, digits: configuration.policy.pinDigits)
        let store = try AccessStore(
            configuration: StoreConfiguration(
                path: configuration.databasePath, synchronous: configuration.synchronous,
                // Lookups run on Swift's cooperative threads, one per core: more readers would
                // only hold more page cache.
                maximumReaders: max(2, ProcessInfo.processInfo.activeProcessorCount),
                backgroundCheckpoints: true, creation: .stateDirectory(initialize: initialize)),
            pinIndex: PINIndex(pins: pins, pinKey: keys.pinKey))
        try store.bindSite(configuration.site.id)
        return store
    }
}
