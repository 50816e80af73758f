/// What a dialect device's topic carries, as the gateway subscribed to it (`ProfileTopics`).
public enum ProfileInbound: Sendable, Hashable {
    // ESPHome (the shipped board configuration)
    case esphomeCode, esphomeTag, esphomeStatus, esphomeStrike, esphomeDoor
    // Tasmota
    case tasmotaSensor, tasmotaWill, tasmotaPower
    // Zigbee2MQTT
    case zigbeeState, zigbeeAvailability
    // Nuki
    case nukiState, nukiDoorSensor, nukiBatteryCritical, nukiBatteryCharge, nukiConnected
    case nukiCommandResponse, nukiLockActionEvent

    /// A code or card read at the door: an access request of the lock.
    public var carriesCredential: Bool {
        switch self {
        case .esphomeCode, .esphomeTag, .tasmotaSensor: true
        default: false
        }
    }

    /// A one-time event, never acted on when retained (like a contract request or event): a
    /// retained code would otherwise open the door again at every gateway start.
    public var isEvent: Bool {
        carriesCredential || self == .nukiCommandResponse || self == .nukiLockActionEvent
    }
}
