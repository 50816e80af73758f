/// An alarm the gateway raises on `R/alarms` (contract, "Gateway").
public struct Alarm: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case doorForced = "door_forced"
        case doorAjar = "door_ajar"
        case lockOffline = "lock_offline"
        case lowBattery = "low_battery"
        case tamper
        case jammed
        case bruteForce = "brute_force"
        case overstay
        case poleFault = "pole_fault"
        case commandFailed = "command_failed"
        /// (v1.1) The audit chain in the store does not hold the head this gateway last published:
        /// it was cut short or rewritten while the gateway was stopped.
        case auditTruncated = "audit_truncated"
    }

    public var kind: Kind
    public var lockID: String?
    public var poleID: String?
    public var spaceID: String?
    public var reservationID: String?
    public var timestampMs: Int64
    public var detail: String

    public init(
        kind: Kind, lockID: String? = nil, poleID: String? = nil, spaceID: String? = nil, reservationID: String? = nil,
        timestampMs: Int64, detail: String
    ) {
        self.kind = kind
        self.lockID = lockID
        self.poleID = poleID
        self.spaceID = spaceID
        self.reservationID = reservationID
        self.timestampMs = timestampMs
        self.detail = detail
    }

    public func payload(alarmID: String) -> String {
        CanonicalJSON.serialize(value(alarmID: alarmID))
    }

    /// The `R/alarms` object, also an element of `R/alarms/active`.
    public func value(alarmID: String) -> JSONValue {
        let fields: [(String, JSONValue?)] = [
            ("alarmId", .string(alarmID)),
            ("type", .string(kind.rawValue)),
            ("lockId", lockID.map(JSONValue.string)),
            ("poleId", poleID.map(JSONValue.string)),
            ("spaceId", spaceID.map(JSONValue.string)),
            ("reservationId", reservationID.map(JSONValue.string)),
            ("ts", .integer(timestampMs)),
            ("detail", .string(detail)),
        ]
        return .object(fields.compactMap { key, value in value.map { (key, $0) } })
    }
}
