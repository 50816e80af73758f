/// Payloads of the live state a gateway publishes for operators (a project extension of the
/// contract, documented in docs/operations.md). None carries a holder id or a credential.
public enum LiveStateMessages {
    /// The outcome of a lock's last decision, as its live state shows it.
    public struct LastDecision: Sendable, Hashable {
        public var granted: Bool
        public var reason: String
        public var timestampMs: Int64

        public init(granted: Bool, reason: String, timestampMs: Int64) {
            self.granted = granted
            self.reason = reason
            self.timestampMs = timestampMs
        }
    }

    /// `R/gateway/<gatewayId>/state/locks/<lockId>`, retained.
    public static func lock(
        lockID: String, spaceID: String, online: Bool?, doorOpen: Bool?, latch: String?, battery: Int?,
        lastSeenMs: Int64?, alarms: [String], lastDecision: LastDecision?, ts: Int64
    ) -> String {
        CanonicalJSON.object([
            ("lockId", .string(lockID)), ("spaceId", .string(spaceID)), ("online", online.map(JSONValue.bool)),
            ("door", doorOpen.map { .string($0 ? "open" : "closed") }), ("latch", latch.map(JSONValue.string)),
            ("battery", battery.map { .integer(Int64($0)) }), ("lastSeen", lastSeenMs.map(JSONValue.integer)),
            ("alarms", .array(alarms.map(JSONValue.string))),
            (
                "lastDecision",
                lastDecision.map {
                    .object([
                        ("outcome", .string($0.granted ? "granted" : "denied")), ("reason", .string($0.reason)),
                        ("ts", .integer($0.timestampMs)),
                    ])
                }
            ),
            ("ts", .integer(ts)),
        ])
    }

    /// `R/gateway/<gatewayId>/state/poles/<poleId>`, retained.
    public static func pole(
        poleID: String, online: Bool?, lastSeenMs: Int64?, illuminance: Double?, status: String?, alarms: [String],
        motion: Bool? = nil, lampPower: String? = nil, lampLevel: Double? = nil, ts: Int64
    ) -> String {
        CanonicalJSON.object([
            ("poleId", .string(poleID)), ("online", online.map(JSONValue.bool)),
            ("lastSeen", lastSeenMs.map(JSONValue.integer)), ("illuminance", illuminance.map(JSONValue.decimal)),
            ("motion", motion.map(JSONValue.bool)), ("lampPower", lampPower.map(JSONValue.string)),
            ("lampLevel", lampLevel.map(JSONValue.decimal)),
            ("status", status.map(JSONValue.string)), ("alarms", .array(alarms.map(JSONValue.string))),
            ("ts", .integer(ts)),
        ])
    }

    /// The most alarms `R/alarms/active` lists (the newest); `count` says how many are open.
    public static let activeAlarmsListLimit = 200

    /// `R/alarms/active`, retained: `{"count","alarms":[{alarm}...],"truncated"?,"ts"}`, oldest first.
    public static func activeAlarms(_ alarms: [(alarmID: String, alarm: Alarm)], ts: Int64) -> String {
        let shown = alarms.suffix(activeAlarmsListLimit)
        return CanonicalJSON.object([
            ("count", .integer(Int64(alarms.count))),
            ("alarms", .array(shown.map { $0.alarm.value(alarmID: $0.alarmID) })),
            ("truncated", alarms.count > shown.count ? .bool(true) : nil),
            ("ts", .integer(ts)),
        ])
    }

    /// `R/alarms/cleared`: an alarm's episode ended, by the device's own report or an operator.
    public static func alarmCleared(
        alarmID: String, alarm: Alarm, clearedBy: String, operatorName: String?, note: String, ts: Int64
    ) -> String {
        CanonicalJSON.object([
            ("alarmId", .string(alarmID)), ("type", .string(alarm.kind.rawValue)),
            ("lockId", alarm.lockID.map(JSONValue.string)), ("poleId", alarm.poleID.map(JSONValue.string)),
            ("spaceId", alarm.spaceID.map(JSONValue.string)), ("raisedTs", .integer(alarm.timestampMs)),
            ("clearedBy", .string(clearedBy)), ("operator", operatorName.map(JSONValue.string)),
            ("note", .string(note)), ("ts", .integer(ts)),
        ])
    }
}
