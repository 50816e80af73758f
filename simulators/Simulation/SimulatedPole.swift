import AccessCore
import AccessProtocol
import Crypto
import Foundation
import Logging
import MQTT
import Synchronization

/// A light pole on the wire: telemetry (FIWARE Streetlight names) on a day/night curve, presence
/// near its spaces, lamp faults on request, and MAC-checked light commands.
public final class SimulatedPole: Sendable {
    public let poleID: String
    let topics: SiteTopics
    let client: MQTTClient
    private let firmware: Mutex<PoleFirmware>
    private let results = Mutex<[LockFirmware.Result]>([])

    public init(
        broker: BrokerEndpoint, siteID: String, prefix: String = SiteTopics.defaultPrefix, poleID: String,
        poleKey: SymmetricKey, logger: Logger = Logger(label: "pole-sim")
    ) throws {
        self.poleID = poleID
        self.topics = SiteTopics(prefix: prefix, siteID: siteID)
        firmware = Mutex(PoleFirmware(siteID: siteID, poleID: poleID, poleKey: poleKey))
        var configuration = broker.configuration(clientID: "pole-sim-\(siteID)-\(poleID)", keepAliveSeconds: 10)
        configuration.will = MQTTMessage(
            topic: topics.status(poleID: poleID), payload: DeviceMessages.offline, retain: true)
        client = try MQTTClient(configuration: configuration, logger: logger)
    }

    public func start() async throws {
        try await client.connect()
        let inbound = client.messages
        let commandTopic = topics.poleCommand(poleID: poleID)
        Task { [self] in
            for await message in inbound where message.topic == commandTopic {
                let outcome = self.firmware.withLock { $0.receive(message.payload, nowMs: nowMs()) }
                self.results.withLock { $0.append(outcome.result) }
            }
        }
        try await client.subscribe(commandTopic, qos: .atLeastOnce)
        try await client.publishAcknowledged(
            MQTTMessage(
                topic: topics.status(poleID: poleID), payload: DeviceMessages.status(firmware: "sim-1.0", ts: nowMs()),
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
        let payload = DeviceMessages.telemetry(
            DeviceReport.PoleTelemetry(
                ts: nowMs(), illuminance: (ambient * 10).rounded() / 10, powerState: level > 0 ? "on" : "off",
                lightLevel: Double(level), motion: motion, occupancy: Double(occupancy), status: status))
        try await client.publishAcknowledged(MQTTMessage(topic: topics.telemetry(poleID: poleID), payload: payload))
    }

    public var commandResults: [LockFirmware.Result] { results.withLock { $0 } }

    public func stop() async { await client.shutdown() }
}
