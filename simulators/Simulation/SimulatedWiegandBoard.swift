import AccessProtocol
import Foundation
import Logging
import MQTT
import Synchronization

/// An ESPHome or Tasmota board with a Wiegand keypad/card reader and a relay on an electric
/// strike, speaking its dialect as documented (docs/devices.md): codes and cards go out on the
/// board's topics, the relay pulses when told, its state and a door contact are reported, and
/// its availability is a retained birth message with a Last Will.
public final class SimulatedWiegandBoard: Sendable {
    public let profile: DeviceProfile
    public let device: String
    let client: MQTTClient
    let topics = ProfileTopics()
    private let state = Mutex(State())

    struct State {
        var pulses: [Int] = []
        var waiters: [CheckedContinuation<Int?, Never>] = []
    }

    public init(
        broker: BrokerEndpoint, profile: DeviceProfile, device: String, logger: Logger = Logger(label: "wiegand-sim")
    ) throws {
        precondition(profile == .esphomeWiegand || profile == .tasmotaWiegand, "a Wiegand board profile")
        self.profile = profile
        self.device = device
        var configuration = broker.configuration(clientID: device, keepAliveSeconds: 10)
        configuration.will =
            profile == .esphomeWiegand
            ? MQTTMessage(topic: "\(device)/status", payload: "offline", retain: true)
            : MQTTMessage(topic: "tele/\(device)/LWT", payload: "Offline", retain: true)
        client = try MQTTClient(configuration: configuration, logger: logger)
    }

    public func start() async throws {
        try await client.connect()
        let inbound = client.messages
        Task { [self] in
            for await message in inbound { await self.receive(message) }
        }
        let command =
            profile == .esphomeWiegand ? topics.esphomePulse(device: device) : topics.tasmotaBacklog(device: device)
        try await client.subscribe(command, qos: .atLeastOnce)
        let online =
            profile == .esphomeWiegand
            ? MQTTMessage(topic: "\(device)/status", payload: "online", retain: true)
            : MQTTMessage(topic: "tele/\(device)/LWT", payload: "Online", retain: true)
        try await client.publishAcknowledged(online)
    }

    /// Keys pressed and `#`: ESPHome's key collector publishes the digits; Tasmota (SetOption124 0)
    /// one number of them, so leading zeros are lost on the wire, as on the real board.
    public func enterCode(_ digits: String) async throws {
        switch profile {
        case .esphomeWiegand:
            try await client.publishAcknowledged(MQTTMessage(topic: "\(device)/wiegand/code", payload: digits))
        default:
            let number = UInt64(digits) ?? 0
            try await tasmotaSensor(#""Wiegand":{"UID":\#(number),"Size":4}"#)
        }
    }

    /// A card held to the reader (26-bit Wiegand).
    public func presentCard(_ number: String) async throws {
        switch profile {
        case .esphomeWiegand:
            try await client.publishAcknowledged(MQTTMessage(topic: "\(device)/wiegand/tag", payload: number))
        default:
            try await tasmotaSensor(#""Wiegand":{"UID":\#(UInt64(number) ?? 0),"Size":26}"#)
        }
    }

    /// The door contact (ESPHome binary_sensor, Tasmota Switch1): ON is open.
    public func door(open: Bool) async throws {
        switch profile {
        case .esphomeWiegand:
            try await client.publishAcknowledged(
                MQTTMessage(topic: "\(device)/binary_sensor/door/state", payload: open ? "ON" : "OFF", retain: true))
        default:
            try await tasmotaSensor(#""Switch1":"\#(open ? "ON" : "OFF")""#)
        }
    }

    /// Raw bytes on the code topic (tests of bad input).
    public func publishRaw(kind: String, _ payload: String, retain: Bool = false) async throws {
        let topic =
            switch (profile, kind) {
            case (.esphomeWiegand, "code"): "\(device)/wiegand/code"
            case (.esphomeWiegand, _): "\(device)/wiegand/tag"
            default: "tele/\(device)/SENSOR"
            }
        try await client.publishAcknowledged(MQTTMessage(topic: topic, payload: payload, retain: retain))
    }

    private func tasmotaSensor(_ body: String) async throws {
        let time = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: "Z", with: "")
        try await client.publishAcknowledged(
            MQTTMessage(topic: "tele/\(device)/SENSOR", payload: #"{"Time":"\#(time)",\#(body)}"#))
    }

    /// Relay pulses so far, in milliseconds each.
    public var pulses: [Int] { state.withLock { $0.pulses } }

    /// The next pulse's length in ms, or nil when none comes within `timeout`.
    public func waitForPulse(after count: Int, timeout: Duration) async -> Int? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let pulse = state.withLock({ $0.pulses.count > count ? $0.pulses[count] : nil }) { return pulse }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    private func receive(_ message: MQTTMessage) async {
        let text = String(decoding: message.payload, as: UTF8.self)
        var pulseMs: Int?
        switch profile {
        case .esphomeWiegand:
            // The shipped YAML: on_message → switch on, delay the payload's ms, switch off.
            pulseMs = Int(text).flatMap { (1...600_000).contains($0) ? $0 : nil }
        default:
            // "PulseTime1 50;Power1 ON": PulseTime 1-111 tenths of a second, else seconds + 100.
            var pulseTime: Int?
            var on = false
            for command in text.split(separator: ";") {
                let words = command.split(separator: " ")
                if words.count == 2, words[0].lowercased() == "pulsetime1", let value = Int(words[1]) {
                    pulseTime = value
                }
                if words.count == 2, words[0].lowercased() == "power1", words[1].uppercased() == "ON" { on = true }
            }
            if on, let value = pulseTime { pulseMs = value <= 111 ? value * 100 : (value - 100) * 1000 }
        }
        guard let pulseMs else { return }
        state.withLock { $0.pulses.append(pulseMs) }
        await relay(on: true)
        Task { [self] in
            try? await Task.sleep(for: .milliseconds(min(pulseMs, 2000)))
            await relay(on: false)
        }
    }

    private func relay(on: Bool) async {
        let message =
            profile == .esphomeWiegand
            ? MQTTMessage(topic: "\(device)/switch/door_strike/state", payload: on ? "ON" : "OFF", retain: true)
            : MQTTMessage(topic: "stat/\(device)/POWER1", payload: on ? "ON" : "OFF")
        try? await client.publishAcknowledged(message)
    }

    public func stop() async { await client.shutdown() }
    public func powerCut() async { await client.shutdownAbruptly() }
}
