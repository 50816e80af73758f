import AccessCore
import AccessStore
import Crypto
import Foundation
import Logging
import MQTT
import ServiceLifecycle
import Synchronization
import UnixSignals

/// The daemon as one Service: opens the store, connects to the broker, serves requests, bookings,
/// devices and poles, publishes status, alarms and the audit head, answers `/healthz` and
/// `/metrics`, talks to systemd, reloads on SIGHUP, and shuts down gracefully.
public final class AccessGatewayService: Service, Sendable {
    private let configurationPath: String
    private let environment: [String: String]
    private let initial: GatewayConfiguration
    private let logger: Logger
    private let metricsText: @Sendable () -> [UInt8]

    public init(
        configurationPath: String, configuration: GatewayConfiguration, environment: [String: String],
        logger: Logger, metricsText: @escaping @Sendable () -> [UInt8]
    ) {
        self.configurationPath = configurationPath
        self.initial = configuration
        self.environment = environment
        self.logger = logger
        self.metricsText = metricsText
    }

    public func run() async throws {
        var configuration = initial
        let keys = try Self.loadKeys(configuration)
        let pins = KeypadPIN(pinKey: keys.pinKey, siteID: configuration.site.id, digits: configuration.policy.pinDigits)
        let store = try AccessStore(
            configuration: StoreConfiguration(
                path: configuration.databasePath, synchronous: configuration.synchronous,
                // Lookups run on Swift's cooperative threads, one per core: more readers would
                // only hold more page cache.
                maximumReaders: max(2, ProcessInfo.processInfo.activeProcessorCount),
                backgroundCheckpoints: true),
            pinIndex: PINIndex(pins: pins, pinKey: keys.pinKey))
        try store.bindSite(configuration.site.id)
        try configuration.settleInventory(with: store)
        let auditLog = try AuditLog(store: store)
        let engine = AccessEngine(
            store: store, auditLog: auditLog,
            configuration: Self.engineConfiguration(configuration, keys: keys))
        logger.info(
            "store open",
            metadata: [
                "path": "\(configuration.databasePath)", "synchronous": "\(configuration.synchronous.rawValue)",
                "reservations": "\((try? store.reservationCount()) ?? -1)", "auditSeq": "\(auditLog.head.seq)",
            ])

        let topics = SiteTopics(prefix: configuration.topicPrefix, siteID: configuration.site.id)
        let client = try MQTTClient(
            configuration: try Self.clientConfiguration(configuration, topics: topics), logger: logger)
        let runtime = GatewayRuntime(
            configuration: configuration, keys: keys, topics: topics, store: store, auditLog: auditLog,
            engine: engine, client: client, logger: logger, startMs: Clock.nowMs())

        try client.start()
        logger.info(
            "connecting to broker", metadata: ["broker": "\(configuration.broker.host):\(configuration.broker.port)"])
        for await state in client.connectionStates() {
            if case .connected = state { break }
            if case .shutDown = state { return }
        }
        try await runtime.subscribe()
        try await runtime.publishStatus(online: true)
        runtime.metrics.brokerConnected.record(1)

        let notifier = SystemdNotifier(environment: environment)
        var health: HealthServer?
        if let listen = configuration.httpListen {
            let metricsText = self.metricsText
            health = try HealthServer(host: listen.host, port: listen.port) { path in
                switch path {
                case "/healthz":
                    let problem = runtime.healthProblem()
                    return HealthServer.Response(status: problem == nil ? 200 : 503, body: (problem ?? "ok") + "\n")
                case "/metrics":
                    runtime.refreshGauges()
                    var response = HealthServer.Response(
                        status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: "")
                    response.body = metricsText()
                    return response
                default:
                    return HealthServer.Response(status: 404, body: "not found\n")
                }
            }
            health?.start()
            logger.info("http endpoint listening", metadata: ["listen": "\(listen.host):\(health?.port ?? 0)"])
        }
        notifier.notify("READY=1\nSTATUS=serving site \(configuration.site.id)")
        logger.info(
            "gateway ready",
            metadata: [
                "gateway": "\(configuration.gatewayID)", "site": "\(configuration.site.id)",
                "locks": "\(configuration.site.locks.count)", "poles": "\(configuration.site.poles.count)",
            ])

        await withDiscardingTaskGroup { group in
            group.addTask { await runtime.dispatchMessages() }
            group.addTask { await runtime.tickLoop() }
            group.addTask { await runtime.auditHeadLoop() }
            group.addTask { await runtime.checkpointLoop() }
            group.addTask { await runtime.connectionStateLoop() }
            if let interval = notifier.watchdogInterval {
                group.addTask {
                    while !Task.isCancelled {
                        if runtime.healthProblem() == nil { notifier.notify("WATCHDOG=1") }
                        try? await Task.sleep(for: interval)
                    }
                }
            }
            group.addTask { [self] in
                for await _ in await UnixSignalsSequence(trapping: .sighup) {
                    await self.reload(runtime: runtime, notifier: notifier)
                }
            }
            // Runs until SIGTERM/SIGINT (graceful) or cancellation.
            try? await gracefulShutdown()
            notifier.notify("STOPPING=1")
            logger.info("shutting down: no new requests, finishing those in flight")
            await runtime.shutdown()
            health?.stop()
            group.cancelAll()
        }
        logger.info("stopped", metadata: ["auditSeq": "\(auditLog.head.seq)"])
    }

    private func reload(runtime: GatewayRuntime, notifier: SystemdNotifier) async {
        notifier.notify("RELOADING=1")
        defer { notifier.notify("READY=1") }
        do {
            let fresh = try await GatewayConfiguration.load(path: configurationPath, environment: environment)
            try runtime.reload(fresh)
            logger.notice("configuration reloaded", metadata: ["path": "\(configurationPath)"])
        } catch {
            logger.error("reload refused, keeping the running configuration", metadata: ["reason": "\(error)"])
        }
    }

    struct Keys: @unchecked Sendable {
        // SymmetricKey is immutable; swift-crypto 3 just does not declare it Sendable.
        var siteKey: SymmetricKey
        var pinKey: SymmetricKey
    }

    /// Reads the key files, so a bad one refuses to start before anything else happens.
    public static func checkKeys(_ configuration: GatewayConfiguration) throws -> Bool {
        _ = try loadKeys(configuration)
        return true
    }

    static func loadKeys(_ configuration: GatewayConfiguration) throws -> Keys {
        let siteKey: SymmetricKey
        let pinKey: SymmetricKey
        do { siteKey = try SecretKeyFile.load(path: configuration.siteKeyFile) } catch {
            throw ConfigurationError("keys.siteKeyFile", error.description)
        }
        do { pinKey = try SecretKeyFile.load(path: configuration.pinKeyFile) } catch {
            throw ConfigurationError("keys.pinKeyFile", error.description)
        }
        return Keys(siteKey: siteKey, pinKey: pinKey)
    }

    static func engineConfiguration(_ configuration: GatewayConfiguration, keys: Keys) -> AccessEngineConfiguration {
        AccessEngineConfiguration(
            gatewayID: configuration.gatewayID, site: configuration.site, policy: configuration.policy,
            issuers: configuration.issuers, siteKey: keys.siteKey, pinKey: keys.pinKey)
    }

    /// The broker settings of a configuration (also used by `accessctl unlock`).
    public static func clientConfiguration(_ configuration: GatewayConfiguration, topics: SiteTopics) throws
        -> MQTTClient.Configuration
    {
        let broker = configuration.broker
        var password: String?
        if let file = broker.passwordFile {
            do {
                let key = try String(contentsOfFile: file, encoding: .utf8)
                password = key.trimmingCharacters(in: .newlines)
            } catch {
                throw ConfigurationError("broker.passwordFile", "cannot read \(file): \(error.localizedDescription)")
            }
        }
        let will = MQTTMessage(
            topic: topics.gatewayStatus(gatewayID: configuration.gatewayID),
            payload: CanonicalJSON.object([("online", .bool(false)), ("gatewayId", .string(configuration.gatewayID))]),
            qos: .atLeastOnce, retain: true)
        return MQTTClient.Configuration(
            host: broker.host, port: broker.port, clientID: broker.clientID, keepAliveSeconds: broker.keepAliveS,
            username: broker.username, password: password,
            tls: broker.caFile.map {
                MQTTClient.TLS(
                    caFile: $0, certificateFile: broker.certificateFile, privateKeyFile: broker.privateKeyFile)
            },
            will: will,
            // Past 128 requests being decided, the rest wait here. 25,000 is five seconds at a
            // 2-core gateway's saturation rate: nobody waits longer than that at a door, so a
            // deeper backlog only costs memory. Beyond it, messages are dropped and counted
            // (access_inbound_dropped_messages); the lock asks again.
            inboundBufferCapacity: 25_000)
    }
}

enum Clock {
    static func nowMs() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
