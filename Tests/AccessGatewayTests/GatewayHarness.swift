import AccessCore
import AccessGateway
import AccessGatewayTesting
import AccessProtocol
import AccessTesting
import Foundation
import MQTT
import MQTTTesting
import Simulation
import Testing

/// A real broker, a real `access-gateway` process with its own config, keys and SQLite file, and
/// a device client subscribed to everything under the site root.
final class GatewayHarness: @unchecked Sendable {
    let broker: MosquittoBroker
    let directory: String
    let site = TestSite(spaces: 3)
    /// The gateway's HTTP port, as its log says it bound it (0 until then). The gateway binds
    /// port 0 and the kernel picks one: a port chosen free in advance could be taken before the
    /// gateway binds it (by another test's listener, or as an outgoing connection's source port),
    /// and the gateway would then serve no health while the probes asked someone else.
    /// Where the current gateway's lines begin in the log file (it is appended to at each start).
    private var logOffset = 0

    /// Only this start's lines count: a restarted gateway gets another port.
    var httpPort: Int {
        let current = String(log().utf8.dropFirst(logOffset)) ?? ""
        guard let line = current.split(separator: "\n").last(where: { $0.contains("http endpoint listening") }),
            let colon = line.lastIndex(of: ":"),
            let port = Int(line[line.index(after: colon)...].prefix { $0.isNumber })
        else { return 0 }
        return port
    }
    var gateway: ChildProcess?
    let device: MQTTClient
    let inbox: MessageCollector
    let topics = SiteTopics(prefix: "access", siteID: "site-1")
    let databasePath: String
    var logFile: String { directory + "/gateway.log" }

    /// Starts everything; `extraYAML` is appended to the generated configuration. A broker of the
    /// caller's (taken over: the harness stops it) needs the gateway's `brokerYAML` and the
    /// observing device's client configuration.
    init(
        extraYAML: String = "", maxRequestsPerS: Double = 1000, inventoryInConfig: Bool = true,
        broker givenBroker: MosquittoBroker? = nil, brokerYAML: String? = nil,
        device deviceConfiguration: MQTTClient.Configuration? = nil, databaseDirectory: String? = nil,
        minFreeMB: Int = 64, httpListen: String? = nil, inventory: String = GatewayHarness.inventoryYAML
    ) async throws {
        broker = try givenBroker ?? MosquittoBroker.start()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        databasePath = (databaseDirectory ?? directory) + "/access.sqlite"
        try TestGateway.writeSecret(TestSite.siteKeyBytes, to: directory + "/site.key")
        try TestGateway.writeSecret(TestSite.pinKeyBytes, to: directory + "/pin.key")
        let publicKey = Base64URL.encode(Array(site.minter.privateKey.publicKey.rawRepresentation))
        let yaml = """
            gateway:
              id: gw-1
            site:
              id: site-1
            \(inventoryInConfig ? inventory : "")
            issuers:
              - "kid-1 https://booking.example \(publicKey)"
            keys:
              siteKeyFile: \(directory)/site.key
              pinKeyFile: \(directory)/pin.key
            \(brokerYAML ?? "broker:\n  port: \(broker.port)")
            database:
              path: \(databasePath)
              minFreeMB: \(minFreeMB)
            policy:
              maxRequestsPerS: \(maxRequestsPerS)
              maxQueueMs: 60000
            http:
              listen: \(httpListen ?? "127.0.0.1:0")
            log:
              level: debug
            \(extraYAML)
            """
        try yaml.write(toFile: directory + "/gateway.yaml", atomically: true, encoding: .utf8)
        if let deviceConfiguration {
            device = try MQTTClient(configuration: deviceConfiguration, logger: TestLogging.logger("mqtt"))
            try await device.connect()
        } else {
            device = try await broker.connectedClient("device-\(UUID().uuidString.prefix(8))")
        }
        inbox = MessageCollector(device)
        try await device.subscribe(topics.everything, qos: .atLeastOnce)
    }

    static let inventoryYAML = """
          spaces: [room-1, room-2, room-3]
          locks: [lock-1@room-1, lock-2@room-2, lock-3@room-3]
          poles: [pole-1@room-1, pole-2@room-2, pole-3@room-3]
        """

    var configPath: String { directory + "/gateway.yaml" }

    static var executable: String {
        get throws { try #require(PackagePaths.executable("access-gateway"), "build the package first") }
    }

    /// Starts the gateway without waiting for anything (for starts that must fail or stall).
    func launchGateway(_ extraArguments: [String] = [], environment: [String: String] = [:]) throws -> ChildProcess {
        logOffset = log().utf8.count
        let process = try ChildProcess(
            executable: try Self.executable, arguments: ["--config", configPath] + extraArguments,
            environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
            outputFile: URL(fileURLWithPath: logFile))
        gateway = process
        return process
    }

    /// Starts the gateway and waits until it says it is online (retained status).
    func startGateway(environment: [String: String] = [:]) async throws {
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { $1 }
        // Only a status published by this start counts (a restart finds the last one recorded).
        let since = inbox.recorded.count
        logOffset = log().utf8.count
        let process = try ChildProcess(
            executable: try Self.executable, arguments: ["--config", configPath], environment: env,
            outputFile: URL(fileURLWithPath: logFile))
        gateway = process
        let online = await inbox.first(since: since, timeout: .seconds(20)) {
            $0.topic == self.topics.gatewayStatus(gatewayID: "gw-1")
                && $0.payloadString?.contains("\"online\":true") == true
        }
        // Online can come before the HTTP endpoint says where it listens: wait for that too.
        let listening = await eventually(timeout: .seconds(20)) { self.httpPort != 0 }
        if online == nil || !listening {
            Issue.record("gateway did not come online (or its HTTP endpoint did not listen); log:\n\(log())")
            throw GatewayHarnessError.notOnline
        }
    }

    func log() -> String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }

    /// Publishes a request and waits for its decision (by requestId, or the next one without).
    func request(
        lockID: String = "lock-1", requestID: String, credential: Credential,
        properties: MQTTPublishProperties = .init(), timeout: Duration = .seconds(20)
    ) async throws -> [String: Any]? {
        let payload = AccessRequest(requestID: requestID, credential: credential, timestampMs: nil).payload
        try await device.publishAcknowledged(
            MQTTMessage(topic: topics.request(lockID: lockID), payload: payload, properties: properties))
        // Generous: with chromium, the benches and sixty other tests starting on two cores, a
        // gateway can be starved for seconds; a passing test does not wait.
        let decision = await inbox.first(timeout: timeout) {
            $0.topic == self.topics.decision(lockID: lockID) && $0.payloadString?.contains("\"\(requestID)\"") == true
        }
        return decision.flatMap { Self.json($0.payload) }
    }

    private var bookingsPublished = 0

    /// Publishes a booking message and, while the gateway runs, waits until it has processed it:
    /// bookings reach the gateway on its own booking connection, in no order with requests.
    func publishBooking(_ line: String) async throws {
        try await device.publishAcknowledged(MQTTMessage(topic: topics.bookings, payload: line))
        bookingsPublished += 1
        guard gateway != nil else { return }
        let processed = await GatewayProbe(port: httpPort).waitForBookings(bookingsPublished, timeout: .seconds(30))
        if !processed {
            let running = gateway?.isRunning == true
            Issue.record(
                "the gateway did not process booking message \(bookingsPublished) (running: \(running)); log:\n\(log().suffix(3000))"
            )
        }
    }

    func messages(on topic: String) -> [MQTTMessage] { inbox.messages.filter { $0.topic == topic } }

    static func json(_ bytes: [UInt8]) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
    }

    func http(_ path: String) async throws -> (status: Int, body: String) {
        let result = try await ExternalTool.captureDetached(
            "curl", ["-s", "-o", "-", "-w", "\n%{http_code}", "--max-time", "5", "http://127.0.0.1:\(httpPort)\(path)"])
        let lines = result.standardOutput.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    func stop() async {
        await gateway?.terminated(SIGTERM, grace: .seconds(10))
    }

    deinit {
        let device = self.device
        Task { await device.shutdown() }
        gateway?.terminate(SIGKILL, grace: .seconds(2))
        broker.tearDown()
        try? FileManager.default.removeItem(atPath: directory)
    }

    static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

enum GatewayHarnessError: Error {
    case notOnline
}
