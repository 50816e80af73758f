/// How a lock's hardware speaks MQTT (docs/devices.md). `contract` is the project's own firmware
/// (signed commands, contract topics); the others are dialects of hardware people can buy, which
/// verify no MAC: for them the broker's client certificates and ACLs are the trust boundary.
public enum DeviceProfile: String, Sendable, Hashable, CaseIterable, Codable {
    case contract
    /// An ESPHome board with a Wiegand keypad/card reader and a relay on an electric strike,
    /// running `config/esphome-wiegand-door.yaml`.
    case esphomeWiegand = "esphome-wiegand"
    /// A Tasmota board built with `USE_WIEGAND`, its relay on an electric strike.
    case tasmotaWiegand = "tasmota-wiegand"
    /// A Zigbee keypad lock paired with Zigbee2MQTT.
    case zigbee2mqtt
    /// A Nuki Smart Lock 3.0 Pro / 4.0 with Nuki's MQTT API.
    case nuki

    /// A dialect device is named by its own topic (ESPHome's `topic_prefix`, Tasmota's `%topic%`,
    /// Zigbee2MQTT's friendly name, Nuki's device id in hex).
    public var needsDevice: Bool { self != .contract }

    /// The device itself reads codes and cards and asks the gateway (a Wiegand board); the other
    /// dialect locks take their requests from a contract reader beside the door.
    public var readsCredentials: Bool { self == .esphomeWiegand || self == .tasmotaWiegand }

    /// The lock keeps PINs in slots of its own (Zigbee locks): the gateway can push them ahead.
    public var hasPINSlots: Bool { self == .zigbee2mqtt }
}
