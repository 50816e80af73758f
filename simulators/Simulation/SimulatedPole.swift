import AccessCore
import AccessProtocol
import Crypto
import Foundation
import MQTT
import Synchronization

/// A light pole on the wire: telemetry (FIWARE Streetlight names) on a day/night curve, presence
/// near its spaces, lamp faults on request, and MAC-checked light commands.
public final class SimulatedPole: Sendable {
    public let poleID: String
    let root: String
    let client: MQTTClient
    private let firmware: Mutex<PoleFirmware>
    private let results = Mutex<[LockFirmware.Result]>([])

    public init(
        broker: (host: String, port: Int), siteID: String, prefix: String = "access", poleID: String,
        poleKey: SymmetricKey
    ) throws {
        self.poleID = poleID
        self.root = "\(prefix)/\(siteID)/poles/\(poleID)"
        firmware = Mutex(PoleFirmware(siteID: siteID, poleID: poleID, poleKey: poleKey))
        var configuration = MQTTClient.Configuration(
            host: broker.host, port: broker.port, clientID: "pole-sim-\(siteID)-\(poleID)", keepAliveSeconds: 10)
        configuration.will = MQTTMessage(topic: "\(root)/status", payload: #"{"online":false}"#, retain: true)
        client = try MQTTClient(configuration: configuration)
    }

    public func start() async throws {
        try await client.connect()
        let inbound = client.messages
        Task { [self] in
            for await message in inbound where message.topic.hasSuffix("/command") {
                let outcome = self.firmware.withLock { $0.receive(message.payload, nowMs: nowMs()) }
                self.results.withLock { $0.append(outcome.result) }
            }
        }
        try await client.subscribe("\(root)/command", qos: .atLeastOnce)
        try await client.publishAcknowledged(
            MQTTMessage(
                topic: "\(root)/status", payload: #"{"online":true,"firmware":"sim-1.0","ts":\#(nowMs())}"#,
                retain: true))
    }

    /// One telemetry message; `lux` defaults to the curve at `secondOfDay`.
    public func report(
        secondOfDay: Int64, lux: Double? = nil, motion: Bool = false, occupancy: Int = 0, status: String = "ok"
    )
        async throws
    {
        let ambient = lux ?? PoleFirmware.ambientLux(secondOfDay: secondOfDay)
        let level = firmware.withLock { $0.lightLevel }
        let payload = CanonicalJSON.object([
            ("ts", .integer(nowMs())), ("illuminance", .string("")), ("powerState", .string(level > 0 ? "on" : "off")),
            ("lightLevel", .integer(Int64(level))), ("motion", .bool(motion)),
            ("occupancy", .integer(Int64(occupancy))),
            ("status", .string(status)),
        ]).replacingOccurrences(of: #""illuminance":"""#, with: #""illuminance":\#(String(format: "%.1f", ambient))"#)
        try await client.publishAcknowledged(MQTTMessage(topic: "\(root)/telemetry", payload: payload))
    }

    public var commandResults: [LockFirmware.Result] { results.withLock { $0 } }

    public func stop() async { await client.shutdown() }
}
