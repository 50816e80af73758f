/// The topics of each dialect, as its vendor documents them (docs/devices.md cites each):
/// the one place a dialect topic is built, for the gateway, the simulators and the ACLs.
public struct ProfileTopics: Sendable, Hashable {
    /// Zigbee2MQTT's `mqtt.base_topic`.
    public var zigbeeBase: String
    /// Nuki's fixed topic root.
    public static let nukiBase = "nuki"

    public init(zigbeeBase: String = "zigbee2mqtt") {
        self.zigbeeBase = zigbeeBase
    }

    /// Every topic the gateway subscribes to for one device, and what it carries.
    public func inbound(_ profile: DeviceProfile, device: String) -> [(topic: String, kind: ProfileInbound)] {
        switch profile {
        case .contract:
            return []
        case .esphomeWiegand:
            return [
                ("\(device)/wiegand/code", .esphomeCode), ("\(device)/wiegand/tag", .esphomeTag),
                ("\(device)/status", .esphomeStatus), ("\(device)/switch/door_strike/state", .esphomeStrike),
                ("\(device)/binary_sensor/door/state", .esphomeDoor),
            ]
        case .tasmotaWiegand:
            return [
                ("tele/\(device)/SENSOR", .tasmotaSensor), ("tele/\(device)/LWT", .tasmotaWill),
                ("stat/\(device)/POWER", .tasmotaPower), ("stat/\(device)/POWER1", .tasmotaPower),
            ]
        case .zigbee2mqtt:
            return [
                ("\(zigbeeBase)/\(device)", .zigbeeState),
                ("\(zigbeeBase)/\(device)/availability", .zigbeeAvailability),
            ]
        case .nuki:
            let root = "\(Self.nukiBase)/\(device)"
            return [
                ("\(root)/state", .nukiState), ("\(root)/doorsensorState", .nukiDoorSensor),
                ("\(root)/batteryCritical", .nukiBatteryCritical), ("\(root)/batteryChargeState", .nukiBatteryCharge),
                ("\(root)/connected", .nukiConnected), ("\(root)/commandResponse", .nukiCommandResponse),
                ("\(root)/lockActionEvent", .nukiLockActionEvent),
            ]
        }
    }

    /// Where the gateway's commands to the device go (the device subscribes here).
    public func commandTopics(_ profile: DeviceProfile, device: String) -> [String] {
        switch profile {
        case .contract: []
        case .esphomeWiegand: [esphomePulse(device: device)]
        case .tasmotaWiegand: [tasmotaBacklog(device: device)]
        case .zigbee2mqtt: [zigbeeSet(device: device), zigbeeGet(device: device)]
        case .nuki: [nukiLockAction(device: device)]
        }
    }

    /// The shipped ESPHome configuration's pulse topic: payload the pulse length in ms.
    public func esphomePulse(device: String) -> String { "\(device)/strike/pulse" }
    /// Tasmota's command topic (`%prefix%/%topic%/<command>`, FullTopic left at its default).
    public func tasmotaBacklog(device: String) -> String { "cmnd/\(device)/Backlog" }
    public func zigbeeSet(device: String) -> String { "\(zigbeeBase)/\(device)/set" }
    public func zigbeeGet(device: String) -> String { "\(zigbeeBase)/\(device)/get" }
    public func nukiLockAction(device: String) -> String { "\(Self.nukiBase)/\(device)/lockAction" }
}
