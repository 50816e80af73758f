#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What a lock or pole reported, validated (contract, "Events", "Status", "Light poles").
public enum DeviceReport: Sendable, Hashable {
    case status(online: Bool, battery: Int?, firmware: String?, rssi: Int?)
    case commandResult(commandID: String, result: String)
    case door(open: Bool)
    case lockState(String)
    case lockAlarm(String)
    case telemetry(PoleTelemetry)

    public static let maximumPayloadBytes = 8 * 1024

    public struct PoleTelemetry: Sendable, Hashable, Decodable {
        public var ts: Int64
        public var illuminance: Double?
        public var powerState: String?
        public var lightLevel: Double?
        public var motion: Bool?
        public var occupancy: Double?
        public var temperature: Double?
        public var humidity: Double?
        public var pm25: Double?
        public var no2: Double?
        public var status: String?

        public init(
            ts: Int64, illuminance: Double? = nil, powerState: String? = nil, lightLevel: Double? = nil,
            motion: Bool? = nil, occupancy: Double? = nil, temperature: Double? = nil, humidity: Double? = nil,
            pm25: Double? = nil, no2: Double? = nil, status: String? = nil
        ) {
            self.ts = ts
            self.illuminance = illuminance
            self.powerState = powerState
            self.lightLevel = lightLevel
            self.motion = motion
            self.occupancy = occupancy
            self.temperature = temperature
            self.humidity = humidity
            self.pm25 = pm25
            self.no2 = no2
            self.status = status
        }

        public var someoneThere: Bool { motion == true || (occupancy ?? 0) > 0 }
    }

    /// A lock's or pole's `status` payload (also its Last Will, `{"online":false}`).
    public static func parseStatus(_ payload: [UInt8]) -> DeviceReport? {
        guard payload.count <= maximumPayloadBytes, String(validating: payload, as: UTF8.self) != nil,
            let status = try? JSONDecoder().decode(Status.self, from: Data(payload))
        else { return nil }
        if let battery = status.battery, !(0...100).contains(battery) { return nil }
        return .status(online: status.online, battery: status.battery, firmware: status.firmware, rssi: status.rssi)
    }

    /// A lock's `event` payload.
    public static func parseLockEvent(_ payload: [UInt8]) -> DeviceReport? {
        guard payload.count <= maximumPayloadBytes, String(validating: payload, as: UTF8.self) != nil,
            let event = try? JSONDecoder().decode(Event.self, from: Data(payload))
        else { return nil }
        switch event.type {
        case "command_result":
            guard let id = event.commandId, Identifier.isValid(id), let result = event.result,
                ["executed", "expired", "bad_mac", "replayed", "unsupported"].contains(result)
            else { return nil }
            return .commandResult(commandID: id, result: result)
        case "door":
            guard let state = event.state, state == "open" || state == "closed" else { return nil }
            return .door(open: state == "open")
        case "lock":
            guard let state = event.state, ["locked", "unlocked", "jammed"].contains(state) else { return nil }
            return .lockState(state)
        case "alarm":
            guard let alarm = event.alarm, ["tamper", "jammed", "forced_open"].contains(alarm) else { return nil }
            return .lockAlarm(alarm)
        default:
            return nil
        }
    }

    /// A pole's `telemetry` payload: every field optional but `ts`.
    public static func parseTelemetry(_ payload: [UInt8]) -> DeviceReport? {
        guard payload.count <= maximumPayloadBytes, String(validating: payload, as: UTF8.self) != nil,
            let telemetry = try? JSONDecoder().decode(PoleTelemetry.self, from: Data(payload))
        else { return nil }
        if let power = telemetry.powerState, !["on", "off", "low", "bootingUp"].contains(power) { return nil }
        if let status = telemetry.status, !["ok", "defectiveLamp", "columnIssue", "brokenLantern"].contains(status) {
            return nil
        }
        return .telemetry(telemetry)
    }

    private struct Status: Decodable {
        var online: Bool
        var battery: Int?
        var firmware: String?
        var rssi: Int?
    }

    private struct Event: Decodable {
        var type: String
        var commandId: String?
        var result: String?
        var state: String?
        var alarm: String?
    }
}
