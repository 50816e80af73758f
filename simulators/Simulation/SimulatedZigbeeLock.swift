import AccessProtocol
import Foundation
import Logging
import MQTT
import Synchronization

/// A Zigbee keypad lock as Zigbee2MQTT presents it (docs/devices.md): `set` with
/// `{"state":"UNLOCK"}` opens it; `pin_code` writes or clears a slot of its own PIN table and
/// `get` reads a slot back into `users`; its keypad checks PINs against that table by itself,
/// so it opens with no gateway at all, and reports `action_user`.
public final class SimulatedZigbeeLock: Sendable {
    public let device: String
    let base: String
    let client: MQTTClient
    private let state = Mutex(State())

    struct State {
        var slots: [Int: String] = [:]
        var unlocks = 0
        var remoteUnlocks = 0
        /// Writes are ignored (a lock out of range, a full table): the gateway must notice.
        var failWrites = false
        var battery = 90
    }

    public init(
        broker: BrokerEndpoint, device: String, base: String = "zigbee2mqtt",
        logger: Logger = Logger(label: "zigbee-sim")
    ) throws {
        self.device = device
        self.base = base
        var configuration = broker.configuration(clientID: "zigbee2mqtt-sim-\(device)", keepAliveSeconds: 10)
        configuration.will = MQTTMessage(
            topic: "\(base)/\(device)/availability", payload: #"{"state":"offline"}"#, retain: true)
        client = try MQTTClient(configuration: configuration, logger: logger)
    }

    public func start() async throws {
        try await client.connect()
        let inbound = client.messages
        Task { [self] in
            for await message in inbound { await self.receive(message) }
        }
        try await client.subscribe("\(base)/\(device)/set", qos: .atLeastOnce)
        try await client.subscribe("\(base)/\(device)/get", qos: .atLeastOnce)
        try await client.publishAcknowledged(
            MQTTMessage(topic: "\(base)/\(device)/availability", payload: #"{"state":"online"}"#, retain: true))
        try await publish(#"{"battery":90,"lock_state":"locked","state":"LOCK"}"#)
    }

    /// The lock's own PIN table (slot → PIN), as the lock holds it.
    public var slots: [Int: String] { state.withLock { $0.slots } }
    public var unlocks: Int { state.withLock { $0.unlocks } }
    /// Unlocks by `set` (the gateway's grants).
    public var remoteUnlocks: Int { state.withLock { $0.remoteUnlocks } }

    public func failWrites(_ fail: Bool) { state.withLock { $0.failWrites = fail } }

    /// A PIN typed on the lock's keypad: checked against its own table, no server asked.
    @discardableResult
    public func keypad(_ pin: String) async throws -> Bool {
        let slot = state.withLock { state -> Int? in
            let slot = state.slots.first { $0.value == pin }?.key
            if slot != nil { state.unlocks += 1 }
            return slot
        }
        if let slot {
            try await publish(
                #"{"action":"unlock","action_source_name":"keypad","action_user":\#(slot),"lock_state":"unlocked","state":"UNLOCK"}"#
            )
            relockLater()
            return true
        }
        try await publish(#"{"action":"unlock_failure_invalid_pin_or_id","action_source_name":"keypad"}"#)
        return false
    }

    private func receive(_ message: MQTTMessage) async {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(message.payload))) as? [String: Any] else {
            return
        }
        if message.topic.hasSuffix("/set") {
            if let command = object["state"] as? String, command == "UNLOCK" {
                state.withLock {
                    $0.unlocks += 1
                    $0.remoteUnlocks += 1
                }
                try? await publish(#"{"lock_state":"unlocked","state":"UNLOCK"}"#)
                relockLater()
            }
            if let pinCode = object["pin_code"] as? [String: Any], let user = pinCode["user"] as? Int {
                let pin = pinCode["pin_code"] as? String ?? (pinCode["pin_code"] as? Int).map(String.init)
                state.withLock { state in
                    guard !state.failWrites else { return }
                    state.slots[user] = pin
                }
            }
        } else if message.topic.hasSuffix("/get"), let pinCode = object["pin_code"] as? [String: Any],
            let user = pinCode["user"] as? Int
        {
            let held = state.withLock { $0.slots[user] != nil }
            try? await publish(#"{"users":{"\#(user)":{"status":"\#(held ? "enabled" : "available")"}}}"#)
        }
    }

    private func relockLater() {
        Task { [self] in
            try? await Task.sleep(for: .milliseconds(500))
            try? await publish(#"{"lock_state":"locked","state":"LOCK"}"#)
        }
    }

    private func publish(_ json: String) async throws {
        try await client.publishAcknowledged(MQTTMessage(topic: "\(base)/\(device)", payload: json))
    }

    public func stop() async { await client.shutdown() }
    public func powerCut() async { await client.shutdownAbruptly() }
}
