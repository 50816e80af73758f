import AccessCore
import AccessProtocol
import AccessStore
import Crypto
import Foundation
import MQTT
import MQTTTesting
import Simulation

#if canImport(Glibc)
    import Glibc
#endif

/// A site for the bench: keys, a store holding the inventory (so that 100k locks need no YAML)
/// and N reservations, the gateway's configuration, and the credentials the locks present.
///
/// Lock `l-j` is a door of space `s-(j % spaces)`. Reservation `b-i` for `i < spaces` is active
/// during the run in space `s-i`; the others follow one another by the hour over the coming
/// months, so that every space holds N/spaces reservations, as a busy store would.
struct BenchSite: @unchecked Sendable {
    // Keys are immutable; swift-crypto 3 just does not declare them Sendable.
    static let siteID = "site-bench"
    let directory: String
    let locks: Int
    let spaces: Int
    let reservations: Int
    let siteKey = SymmetricKey(size: .bits256)
    let pinKey = SymmetricKey(size: .bits256)
    let backend: BookingBackend
    let nowMs: Int64
    let topics = SiteTopics(siteID: BenchSite.siteID)

    init(directory: String, locks: Int, spaces: Int, reservations: Int) {
        self.directory = directory
        self.locks = locks
        self.spaces = spaces
        self.reservations = reservations
        nowMs = Int64(Date().timeIntervalSince1970 * 1000)
        backend = BookingBackend(
            siteID: Self.siteID, kid: "bench-1", issuer: "https://booking.bench", privateKey: .init(), pinKey: pinKey)
    }

    var databasePath: String { directory + "/access.sqlite" }
    var configurationPath: String { directory + "/gateway.yaml" }

    /// The reservation active during the run in space `s-space`.
    func activeReservation(space: Int) -> Reservation {
        Reservation(
            id: "b-\(space)", spaceID: "s-\(space)", holder: "u-\(space)", startMs: nowMs / 1000 * 1000 - 3_600_000,
            endMs: nowMs / 1000 * 1000 + 6 * 3_600_000)
    }

    func reservation(_ index: Int) -> Reservation {
        if index < spaces { return activeReservation(space: index) }
        let space = index % spaces
        let slot = Int64(index / spaces)
        let start = (nowMs / 3_600_000 + 24 + slot) * 3_600_000
        return Reservation(
            id: "b-\(index)", spaceID: "s-\(space)", holder: "u-\(index % 50_000)", startMs: start,
            endMs: start + 3_600_000)
    }

    /// Creates the store: the inventory, then the reservations in batched transactions.
    func createStore(progress: (String) -> Void) throws {
        let pins = KeypadPIN(pinKey: pinKey, siteID: Self.siteID, digits: 8)
        let store = try AccessStore(
            configuration: StoreConfiguration(path: databasePath, synchronous: .full),
            pinIndex: PINIndex(pins: pins, pinKey: pinKey))
        try store.bindSite(Self.siteID)
        let site = try Site(
            id: Self.siteID, spaces: (0..<spaces).map { Space(id: "s-\($0)") },
            locks: (0..<locks).map { Lock(id: "l-\($0)", spaceID: "s-\($0 % spaces)") }, poles: [])
        try store.saveSite(site)
        let importer = BookingImport(batchSize: 5000)
        let chunk = 100_000
        let started = ContinuousClock.now
        for first in stride(from: 0, to: reservations, by: chunk) {
            var ndjson: [UInt8] = []
            ndjson.reserveCapacity(chunk * 240)
            for index in first..<min(reservations, first + chunk) {
                Self.appendUpsert(reservation(index), to: &ndjson)
            }
            let summary = try importer.run(ndjson: ndjson, into: store, nowMs: nowMs)
            guard summary.applied == min(chunk, reservations - first) else {
                throw BenchError("the import applied \(summary.applied) lines of a chunk: \(summary)")
            }
            if reservations > chunk {
                let seconds = (ContinuousClock.now - started).seconds
                progress("  imported \(min(reservations, first + chunk)) reservations (\(Int(seconds)) s)")
            }
        }
    }

    static func appendUpsert(_ r: Reservation, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: BookingMessage.upsert(r).payload.utf8)
        bytes.append(UInt8(ascii: "\n"))
    }

    func writeKeysAndConfiguration(
        broker: (host: String, port: Int), httpPort: Int, postgresPort: Int? = nil, sharedGroup: String? = nil
    ) throws {
        for (key, name) in [(siteKey, "site.key"), (pinKey, "pin.key")] {
            let hex = key.withUnsafeBytes { $0.map { String(format: "%02x", $0) }.joined() }
            let path = directory + "/" + name
            try (hex + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, 0o600)
        }
        // Per-lock budgets stay at the contract's 10/s in production; the bench sends from few
        // locks at rates no single door sees, so the budget is lifted to measure the decision.
        // The bench's locks send no status heartbeats: without a long offline delay, every one
        // of them would raise lock_offline three minutes in, in the middle of the measurement.
        let yaml = """
            gateway: {id: gw-bench}
            site: {id: \(Self.siteID)}
            issuers: ["\(backend.issuerSetting)"]
            keys: {siteKeyFile: \(directory)/site.key, pinKeyFile: \(directory)/pin.key}
            broker: {host: \(broker.host), port: \(broker.port)\(sharedGroup.map { ", sharedGroup: \($0)" } ?? "")}
            database: {path: \(databasePath), synchronous: full\(postgresPort.map { ", kind: postgres, url: \"postgres://\(PostgresServer.user)@127.0.0.1:\($0)/\(PostgresServer.database)\"" } ?? "")}
            policy: {maxRequestsPerS: 100000}
            alarms: {offlineAfterS: 86400}
            http: {listen: "127.0.0.1:\(httpPort)"}
            log: {level: notice}
            """
        try yaml.write(toFile: configurationPath, atomically: true, encoding: .utf8)
    }

    // MARK: What the locks present

    static func requestPayload(sequence: Int, credential: Credential) -> [UInt8] {
        Array(AccessRequest(requestID: "q\(sequence)", credential: credential, timestampMs: nil).payload.utf8)
    }

    func lockTopic(_ sequence: Int) -> (topic: String, space: Int) {
        let lock = sequence % locks
        return (topics.request(lockID: "l-\(lock)"), lock % spaces)
    }

    /// Every request a token of its own (a fresh EdDSA verification each), minted beforehand on
    /// every core; `count` tokens for sequence numbers 0..<count.
    func uniqueTokens(count: Int) async throws -> [String] {
        let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        return try await withThrowingTaskGroup(of: (Int, [String]).self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var tokens: [String] = []
                    var sequence = worker
                    while sequence < count {
                        let space = lockTopic(sequence).space
                        tokens.append(try backend.token(for: activeReservation(space: space), jti: "u\(sequence)"))
                        sequence += workers
                    }
                    return (worker, tokens)
                }
            }
            var byWorker: [[String]] = Array(repeating: [], count: workers)
            for try await (worker, tokens) in group { byWorker[worker] = tokens }
            return (0..<count).map { byWorker[$0 % workers][$0 / workers] }
        }
    }

    func uniqueTokenWorkload(_ tokens: [String]) -> Workload {
        Workload(name: "unique-token", responseFilter: topics.lockCommands) { sequence in
            let (topic, _) = lockTopic(sequence)
            let token = tokens[sequence % tokens.count]
            return MQTTMessage(
                topic: topic, payload: Self.requestPayload(sequence: sequence, credential: .token(token)))
        }
    }

    /// One token per space, presented again and again (a holder badging in repeatedly).
    func repeatedTokenWorkload() throws -> Workload {
        let tokens = try (0..<spaces).map { try backend.token(for: activeReservation(space: $0), jti: "r\($0)") }
        return Workload(name: "repeated-token", responseFilter: topics.lockCommands) { sequence in
            let (topic, space) = lockTopic(sequence)
            return MQTTMessage(
                topic: topic, payload: Self.requestPayload(sequence: sequence, credential: .token(tokens[space])))
        }
    }

    func pinWorkload() -> Workload {
        let pins = (0..<spaces).map { backend.pin(for: activeReservation(space: $0)) }
        return Workload(name: "pin", responseFilter: topics.lockCommands) { sequence in
            let (topic, space) = lockTopic(sequence)
            return MQTTMessage(
                topic: topic, payload: Self.requestPayload(sequence: sequence, credential: .pin(pins[space])))
        }
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
