/// What locks and poles publish (contract, "Events", "Status", "Light poles"), as payloads: the
/// one builder of device messages, used by the simulators, the benches and the tests; the gateway
/// reads them with `DeviceReport`.
public enum DeviceMessages {
    /// `command_result` with the command's id (absent when the command could not be read).
    public static func commandResult(commandID: String?, result: String, ts: Int64) -> String {
        CanonicalJSON.object([
            ("type", .string("command_result")), ("commandId", commandID.map(JSONValue.string)),
            ("result", .string(result)), ("ts", .integer(ts)),
        ])
    }

    public static func door(open: Bool, ts: Int64) -> String {
        CanonicalJSON.object([
            ("type", .string("door")), ("state", .string(open ? "open" : "closed")), ("ts", .integer(ts)),
        ])
    }

    /// `lock` with `locked`, `unlocked` or `jammed`.
    public static func lockState(_ state: String, ts: Int64) -> String {
        CanonicalJSON.object([("type", .string("lock")), ("state", .string(state)), ("ts", .integer(ts))])
    }

    /// `alarm` with `tamper`, `jammed` or `forced_open`.
    public static func alarm(_ alarm: String, ts: Int64) -> String {
        CanonicalJSON.object([("type", .string("alarm")), ("alarm", .string(alarm)), ("ts", .integer(ts))])
    }

    /// A device's retained status (also its heartbeat).
    public static func status(
        online: Bool = true, battery: Int? = nil, firmware: String? = nil, rssi: Int? = nil, ts: Int64
    ) -> String {
        CanonicalJSON.object([
            ("online", .bool(online)), ("battery", battery.map { .integer(Int64($0)) }),
            ("firmware", firmware.map(JSONValue.string)), ("rssi", rssi.map { .integer(Int64($0)) }),
            ("ts", .integer(ts)),
        ])
    }

    /// A device's Last Will: `{"online":false}`.
    public static let offline = CanonicalJSON.object([("online", .bool(false))])

    /// A pole's telemetry; absent fields are left out.
    public static func telemetry(_ telemetry: DeviceReport.PoleTelemetry) -> String {
        CanonicalJSON.object([
            ("ts", .integer(telemetry.ts)), ("illuminance", telemetry.illuminance.map(JSONValue.decimal)),
            ("powerState", telemetry.powerState.map(JSONValue.string)),
            ("lightLevel", telemetry.lightLevel.map(JSONValue.decimal)),
            ("motion", telemetry.motion.map(JSONValue.bool)), ("occupancy", telemetry.occupancy.map(JSONValue.decimal)),
            ("temperature", telemetry.temperature.map(JSONValue.decimal)),
            ("humidity", telemetry.humidity.map(JSONValue.decimal)), ("pm25", telemetry.pm25.map(JSONValue.decimal)),
            ("no2", telemetry.no2.map(JSONValue.decimal)), ("status", telemetry.status.map(JSONValue.string)),
        ])
    }
}
