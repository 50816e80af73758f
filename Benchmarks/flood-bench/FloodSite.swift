import AccessCore
import AccessProtocol
import Crypto
import Foundation
import Logging
import MQTT
import MQTTTesting
import Simulation
import Synchronization

/// The site the flood runs against: a broker, keys, the gateway process (inventory in its
/// configuration), the booking backend's client, and an observer of the decisions that matter
/// (the well-behaved lock's and the check locks'; never the flooding lock's).
///
/// Spaces: `room-flood` (door `lock-flood`), `room-good` (`lock-good`), and `room-c0`… with one
/// door each, where the holders that get cancelled or revoked have their bookings.
final class FloodSite: @unchecked Sendable {
    // Keys are immutable; swift-crypto 3 just does not declare them Sendable.
    static let siteID = "site-flood"
    /// Doors of `room-load`, for the steady and overload phases: enough that each stays within
    /// its own budget (10/s) while together they load the gateway.
    static let loadLocks = 2500
    let topics = SiteTopics(siteID: FloodSite.siteID)
    let broker: MosquittoBroker
    let directory: String
    let backend: BookingBackend
    let gatewayProcess: ChildProcess
    let probe: GatewayProbe
    let backendClient: MQTTClient
    let observer: MQTTClient
    let nowMs = Int64(Date().timeIntervalSince1970 * 1000) / 1000 * 1000
    /// requestId -> (when the decision arrived, its reason, the gateway's `ts` of it).
    let decisions = Mutex<[String: (receivedNs: UInt64, reason: String, decidedMs: Int64)]>([:])
    let goodReservation: Reservation
    /// The reservation of the door whose order is checked (OrderCheck).
    let orderReservation: Reservation
    /// The steady phase's booking, at every load door.
    let loadReservation: Reservation
    private let published = Mutex(0)
    var bookingsPublished: Int { published.withLock { $0 } }

    var gatewayPID: Int32 { gatewayProcess.processIdentifier }

    private init(
        broker: MosquittoBroker, directory: String, backend: BookingBackend, gatewayProcess: ChildProcess,
        probe: GatewayProbe, backendClient: MQTTClient, observer: MQTTClient
    ) {
        self.broker = broker
        self.directory = directory
        self.backend = backend
        self.gatewayProcess = gatewayProcess
        self.probe = probe
        self.backendClient = backendClient
        self.observer = observer
        goodReservation = Reservation(
            id: "b-good", spaceID: "room-good", holder: "u-good", startMs: nowMs - 3_600_000,
            endMs: nowMs + 6 * 3_600_000)
        orderReservation = Reservation(
            id: "b-order", spaceID: "room-order", holder: "u-order", startMs: nowMs - 3_600_000,
            endMs: nowMs + 6 * 3_600_000)
        loadReservation = Reservation(
            id: "b-load", spaceID: "room-load", holder: "u-load", startMs: nowMs - 3_600_000,
            endMs: nowMs + 6 * 3_600_000)
    }

    var databasePath: String { directory + "/access.sqlite" }

    /// The store's write-ahead log, in bytes (0 when there is none).
    var walBytes: Int {
        let attributes = try? FileManager.default.attributesOfItem(atPath: databasePath + "-wal")
        return (attributes?[.size] as? NSNumber)?.intValue ?? 0
    }

    /// `maxRequestsPerS`: the per-lock budget (the shipped 10 for the floods; the order check,
    /// which pipelines bursts from one door, lifts it).
    static func start(gatewayExecutable: String, holdersPerPhase: Int, maxRequestsPerS: Int = 10) async throws
        -> FloodSite
    {
        let broker = try MosquittoBroker.start()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flood-bench-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let siteKey = SymmetricKey(size: .bits256)
        let pinKey = SymmetricKey(size: .bits256)
        for (key, name) in [(siteKey, "site.key"), (pinKey, "pin.key")] {
            let hex = key.withUnsafeBytes { $0.map { String(format: "%02x", $0) }.joined() }
            try (hex + "\n").write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
            chmod(directory + "/" + name, 0o600)
        }
        let backend = BookingBackend(
            siteID: siteID, kid: "flood-1", issuer: "https://booking.flood", privateKey: .init(), pinKey: pinKey)
        let checkSpaces = (0..<FloodBench.checkLocks).map { "room-c\($0)" }
        let loadDoors = (0..<loadLocks).map { "lock-o\($0)@room-load" }.joined(separator: ", ")
        let httpPort = try LoopbackPort.free()
        // With the shipped per-lock budget (10/s) a flooding lock is mostly answered rate_limited.
        // Locks send no heartbeats here, so offline alarms are pushed past the run.
        let yaml = """
            gateway: {id: gw-flood}
            site:
              id: \(siteID)
              spaces: [room-flood, room-good, room-order, room-load, \(checkSpaces.joined(separator: ", "))]
              locks: [lock-flood@room-flood, lock-good@room-good, lock-order@room-order, \(checkSpaces.map { "lock-\($0.dropFirst(5))@\($0)" }.joined(separator: ", ")), \(loadDoors)]
            issuers: ["\(backend.issuerSetting)"]
            keys: {siteKeyFile: \(directory)/site.key, pinKeyFile: \(directory)/pin.key}
            broker: {host: 127.0.0.1, port: \(broker.port)}
            database: {path: \(directory)/access.sqlite, synchronous: full}
            policy: {maxRequestsPerS: \(maxRequestsPerS)}
            alarms: {offlineAfterS: 86400}
            http: {listen: "127.0.0.1:\(httpPort)"}
            log: {level: notice}
            """
        try yaml.write(toFile: directory + "/gateway.yaml", atomically: true, encoding: .utf8)
        let environment = DaemonEnvironment.gateway()
        let gatewayProcess = try ChildProcess(
            executable: gatewayExecutable, arguments: ["--config", directory + "/gateway.yaml"],
            environment: environment, outputFile: URL(fileURLWithPath: directory + "/gateway.log"))
        let logger = Logger(label: "flood-bench")
        let observer = try MQTTClient(
            configuration: .init(port: broker.port, clientID: "flood-observer", inboundBufferCapacity: 1_000_000),
            logger: logger)
        try await observer.connect()
        let backendClient = try MQTTClient(
            configuration: .init(port: broker.port, clientID: "booking-backend"), logger: logger)
        try await backendClient.connect()
        let site = FloodSite(
            broker: broker, directory: directory, backend: backend, gatewayProcess: gatewayProcess,
            probe: GatewayProbe(port: httpPort), backendClient: backendClient, observer: observer)
        try await site.observe()
        try await site.waitOnline()
        try await site.publishBookings(holdersPerPhase: holdersPerPhase, phases: FloodBench.knownPhases.count)
        return site
    }

    private func observe() async throws {
        let messages = observer.messages
        Task { [self] in
            for await message in messages {
                guard let json = try? JSONSerialization.jsonObject(with: Data(message.payload)) as? [String: Any],
                    let requestID = json["requestId"] as? String
                else { continue }
                let reason = json["reason"] as? String ?? "?"
                let decidedMs = (json["ts"] as? NSNumber)?.int64Value ?? 0
                let now = DispatchTime.now().uptimeNanoseconds
                decisions.withLock { $0[requestID] = (now, reason, decidedMs) }
            }
        }
        try await observer.subscribe(topics.gatewayStatus(gatewayID: "gw-flood"))
        try await observer.subscribe(topics.decision(lockID: "lock-good"))
        for index in 0..<FloodBench.checkLocks {
            try await observer.subscribe(topics.decision(lockID: "lock-c\(index)"))
        }
    }

    private func waitOnline() async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if await probe.total("access_broker_connected") == 1 { return }
            guard gatewayProcess.isRunning else { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let log = (try? String(contentsOfFile: directory + "/gateway.log", encoding: .utf8)) ?? ""
        throw FloodError("the gateway did not come online:\n\(log.suffix(2000))")
    }

    /// The reservation of holder `index` of phase `phase`: active now, in a check space.
    func holderReservation(phase: Int, index: Int) -> Reservation {
        Reservation(
            id: "h-\(phase)-\(index)", spaceID: "room-c\(index % FloodBench.checkLocks)", holder: "u-\(phase)-\(index)",
            startMs: nowMs - 3_600_000, endMs: nowMs + 6 * 3_600_000)
    }

    func holderToken(phase: Int, index: Int) throws -> String {
        try backend.token(for: holderReservation(phase: phase, index: index), jti: "t-\(phase)-\(index)")
    }

    private func publishBookings(holdersPerPhase: Int, phases: Int) async throws {
        try await publish(.upsert(goodReservation))
        try await publish(.upsert(orderReservation))
        try await publish(.upsert(loadReservation))
        for phase in 0..<phases {
            for index in 0..<holdersPerPhase {
                try await publish(.upsert(holderReservation(phase: phase, index: index)))
            }
        }
        guard await probe.waitForBookings(bookingsPublished, timeout: .seconds(60)) else {
            throw FloodError("the gateway did not apply the \(bookingsPublished) bookings before the flood")
        }
    }

    func publish(_ booking: BookingMessage) async throws {
        try await backendClient.publishAcknowledged(MQTTMessage(topic: topics.bookings, payload: booking.payload))
        published.withLock { $0 += 1 }
    }

    func decision(_ requestID: String) -> (receivedNs: UInt64, reason: String, decidedMs: Int64)? {
        decisions.withLock { $0[requestID] }
    }

    func tearDown() {
        gatewayProcess.terminate(SIGTERM, grace: .seconds(10))
        let clients = [observer, backendClient]
        let done = DispatchSemaphore(value: 0)
        Task {
            for client in clients { await client.shutdown() }
            done.signal()
        }
        _ = done.wait(timeout: .now() + 5)
        broker.tearDown()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
