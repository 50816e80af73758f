import AccessProtocol
import Foundation
import Logging
import MQTT
import Synchronization

/// A Nuki Smart Lock with Nuki's MQTT API (docs/devices.md): `lockAction` with an action
/// number, answered on `commandResponse` (0 success, else a BLE API error code), announced on
/// `lockActionEvent` before it runs, and `state`, `doorsensorState`, `batteryChargeState` and
/// `connected` (retained, with a Last Will of false).
public final class SimulatedNukiLock: Sendable {
    public let device: String
    let root: String
    let client: MQTTClient
    private let state = Mutex(State())

    struct State {
        var actions: [Int] = []
        /// Answer every lock action with this error code instead of executing it.
        var failWith: Int?
    }

    public init(broker: BrokerEndpoint, device: String, logger: Logger = Logger(label: "nuki-sim")) throws {
        self.device = device
        root = "\(ProfileTopics.nukiBase)/\(device)"
        var configuration = broker.configuration(clientID: "nuki-\(device)", keepAliveSeconds: 10)
        configuration.will = MQTTMessage(topic: "\(root)/connected", payload: "false", retain: true)
        client = try MQTTClient(configuration: configuration, logger: logger)
    }

    public func start() async throws {
        try await client.connect()
        let inbound = client.messages
        Task { [self] in
            for await message in inbound { await self.receive(message) }
        }
        try await client.subscribe("\(root)/lockAction", qos: .atLeastOnce)
        for (topic, value) in [
            ("connected", "true"), ("state", "1"), ("doorsensorState", "2"), ("batteryChargeState", "80"),
        ] {
            try await client.publishAcknowledged(MQTTMessage(topic: "\(root)/\(topic)", payload: value, retain: true))
        }
    }

    /// Lock actions executed so far.
    public var actions: [Int] { state.withLock { $0.actions } }
    public func failWith(_ code: Int?) { state.withLock { $0.failWith = code } }

    private func receive(_ message: MQTTMessage) async {
        guard let action = Int(String(decoding: message.payload, as: UTF8.self)), (1...6).contains(action) else {
            try? await send("commandResponse", "1")
            return
        }
        if let code = state.withLock({ $0.failWith }) {
            try? await send("commandResponse", "\(code)")
            return
        }
        state.withLock { $0.actions.append(action) }
        // Trigger 172: MQTT (Nuki MQTT API 1.4 added MQTT to the triggers); no auth or code id.
        try? await send("lockActionEvent", "\(action),172,0,0,0")
        try? await send("commandResponse", "0")
        try? await send("state", action == 3 ? "7" : "2", retain: true)
        try? await send("state", action == 3 ? "5" : "3", retain: true)
        Task { [self] in
            try? await Task.sleep(for: .milliseconds(500))
            try? await send("state", "1", retain: true)
        }
    }

    private func send(_ topic: String, _ value: String, retain: Bool = false) async throws {
        try await client.publishAcknowledged(MQTTMessage(topic: "\(root)/\(topic)", payload: value, retain: retain))
    }

    public func stop() async { await client.shutdown() }
    public func powerCut() async { await client.shutdownAbruptly() }
}
