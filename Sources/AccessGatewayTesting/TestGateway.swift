import AccessConfiguration
import AccessCore
import AccessEngine
import AccessGateway
import AccessProtocol
import AccessStore
import AccessTesting
import Foundation
import InMemoryLogging
import Logging
import MQTT
import MQTTTesting
import ServiceLifecycle

/// The gateway in-process: the real services (requests, bookings, device reports, operator,
/// maintenance) in a real ServiceGroup, over a temporary SQLite store, with a
/// `RecordingPublisher` instead of the broker and a logger that keeps its lines in memory. A
/// test hands messages to `receive` exactly as the device connection would, and reads what the
/// services published from `published`.
public final class TestGateway: Sendable {
    public let site: TestSite
    public let topics: SiteTopics
    public let temporary: TemporaryStore
    public let published: RecordingPublisher
    public let services: GatewayServices
    /// What the gateway logged.
    public let logs: InMemoryLogHandler
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    /// Starts the services. `yaml` is appended to the generated configuration (policy, alarms…).
    /// `maxQueueMs` is generous by default: on a starved CI machine an in-process request can wait
    /// seconds for a core, and only the tests of load shedding want it answered `busy`.
    public init(
        site: TestSite = TestSite(), maxRequestsPerS: Double = 1000, maxQueueMs: Int = 60_000, yaml: String = "",
        synchronous: StoreConfiguration.Synchronous = .full, logLevel: Logger.Level = .debug,
        locks: [String]? = nil, nowMs: @escaping @Sendable () -> Int64 = WallClock.nowMs
    ) async throws {
        self.site = site
        temporary = try TemporaryStore(testSite: site, synchronous: synchronous, backgroundCheckpoints: true)
        let directory = temporary.directory
        try Self.writeSecret(TestSite.siteKeyBytes, to: directory + "/site.key")
        try Self.writeSecret(TestSite.pinKeyBytes, to: directory + "/pin.key")
        let issuerKey = Base64URL.encode(Array(site.minter.privateKey.publicKey.rawRepresentation))
        let spaces = site.site.spaces.keys
        let text = """
            gateway:
              id: gw-1
            site:
              id: \(site.site.id)
              spaces: [\(spaces.joined(separator: ", "))]
              locks: [\((locks ?? site.site.locks.values.map { "\($0.id)@\($0.spaceID)" }.sorted()).map { "\"\($0)\"" }.joined(separator: ", "))]
              poles: [\(spaces.compactMap { space in site.site.spaces[space]?.poleIDs.first.map { "\($0)@\(space)" } }.joined(separator: ", "))]
            issuers:
              - "\(site.minter.kid) \(site.minter.issuer) \(issuerKey)"
            keys:
              siteKeyFile: \(directory)/site.key
              pinKeyFile: \(directory)/pin.key
            database:
              path: \(temporary.path)
            policy:
              maxRequestsPerS: \(maxRequestsPerS)
              maxQueueMs: \(maxQueueMs)
            \(yaml)
            """
        try text.write(toFile: directory + "/gateway.yaml", atomically: true, encoding: .utf8)
        let configuration = try await GatewayConfiguration.load(path: directory + "/gateway.yaml", environment: [:])
        let keys = GatewaySettings.Keys(siteKey: site.siteKey, pinKey: site.pinKey)
        let (logger, logs) = TestLogging.capturing("access-gateway", level: logLevel)
        self.logs = logs
        let engine = AccessEngine(
            store: temporary.store, auditLog: temporary.auditLog,
            configuration: GatewaySettings.engineConfiguration(configuration, keys: keys))
        published = RecordingPublisher()
        let context = GatewayContext(
            settings: GatewaySettings(configuration: configuration, keys: keys), store: temporary.store,
            auditLog: temporary.auditLog, engine: engine, publisher: published, logger: logger, nowMs: nowMs)
        topics = context.topics
        services = try GatewayServices(context: context, bookingConnection: nil)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services.all.map { .init(service: $0) }, logger: TestLogging.logger("service-group")))
        self.group = group
        running = Task { try await group.run() }
    }

    /// A graceful stop, as SIGTERM gives the daemon: requests queued are still decided.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await running.value
    }

    deinit {
        running.cancel()
    }

    // MARK: What devices and the backend send

    /// Hands a message to the gateway's lanes, as the device connection does.
    public func receive(
        _ topic: String, _ payload: String, retain: Bool = false, properties: MQTTPublishProperties = .init()
    ) {
        services.receive(MQTTMessage(topic: topic, payload: payload, retain: retain, properties: properties))
    }

    /// A lock's request; nothing is awaited.
    public func send(lockID: String = "lock-1", requestID: String, credential: Credential) {
        receive(
            topics.request(lockID: lockID),
            AccessRequest(requestID: requestID, credential: credential, timestampMs: nil).payload)
    }

    /// A lock's request and its decision (nil after `timeout`).
    public func request(
        lockID: String = "lock-1", requestID: String, credential: Credential, timeout: Duration = .seconds(30)
    ) async -> [String: Any]? {
        send(lockID: lockID, requestID: requestID, credential: credential)
        let topic = topics.decision(lockID: lockID)
        let needle = "\"requestId\":\"\(requestID)\""
        let decision = await published.first(timeout: timeout) {
            $0.topic == topic && $0.payloadString?.contains(needle) == true
        }
        return decision.flatMap { Self.json($0.payload) }
    }

    /// A booking message, applied as the booking connection applies it; returns the outcome.
    /// `seq` is its feed position (v1.1); `answer` sends it as a replay answer to this gateway.
    @discardableResult
    public func book(_ message: BookingMessage, seq: Int64? = nil, answer: Bool = false) -> String {
        let topic = answer ? topics.bookingAnswers(gatewayID: "gw-1") : topics.bookings
        return services.bookings.apply(MQTTMessage(topic: topic, payload: message.payload(seq: seq)))
    }

    /// The backend's retained head.
    @discardableResult
    public func head(_ seq: Int64) -> String {
        let head = BookingFeedMessages.Head(seq: seq, timestampMs: 0)
        return services.bookings.apply(MQTTMessage(topic: topics.bookingsHead, payload: head.payload))
    }

    public static func json(_ bytes: [UInt8]) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
    }

    /// A key file as the gateway reads it: 64 hex digits, mode 0600.
    public static func writeSecret(_ bytes: [UInt8], to path: String) throws {
        try (bytes.map { String(format: "%02x", $0) }.joined() + "\n").write(
            toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o600)
    }
}
