import AccessProtocol
import GRDB

extension AccessStore {
    /// A change to the alarm history, written by the gateway in its device-state batches.
    public enum AlarmEvent: Sendable, Hashable {
        case raised(alarmID: String, Alarm)
        /// `by` is `device`, `operator` or `superseded` (the same alarm raised again while open).
        case cleared(alarmID: String, atMs: Int64, by: String, operatorName: String?, note: String)
    }

    /// One alarm of the history.
    public struct StoredAlarm: Sendable, Hashable {
        public var alarmID: String
        public var alarm: Alarm
        public var clearedMs: Int64?
        public var clearedBy: String?
        public var operatorName: String?
        public var note: String?
    }

    /// An operator's acknowledgement that the gateway has not applied yet.
    public struct AlarmAcknowledgement: Sendable, Hashable {
        public var alarmID: String
        public var operatorName: String
        public var note: String
    }

    public enum AlarmAckError: Error, CustomStringConvertible, Equatable {
        case unknown(String)
        case alreadyCleared(String, by: String)

        public var description: String {
            switch self {
            case .unknown(let id): "no alarm \(id)"
            case .alreadyCleared(let id, let by): "alarm \(id) is already cleared (by \(by))"
            }
        }
    }

    /// How long a cleared alarm is kept in the history.
    public static let clearedAlarmRetentionMs: Int64 = 90 * 86_400_000

    static func writeAlarmEvents(_ events: [AlarmEvent], db: Database) throws {
        for event in events {
            switch event {
            case .raised(let id, let alarm):
                try db.cachedStatement(
                    sql: """
                        INSERT OR IGNORE INTO alarms (alarm_id, type, lock_id, pole_id, space_id, raised_ms, detail)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """
                ).execute(arguments: [
                    id, alarm.kind.rawValue, alarm.lockID, alarm.poleID, alarm.spaceID, alarm.timestampMs, alarm.detail,
                ])
            case .cleared(let id, let atMs, let by, let operatorName, let note):
                try db.cachedStatement(
                    sql: """
                        UPDATE alarms SET cleared_ms = ?, cleared_by = ?, operator = ?, note = ?
                        WHERE alarm_id = ? AND cleared_ms IS NULL
                        """
                ).execute(arguments: [atMs, by, operatorName, note, id])
                try db.cachedStatement(sql: "DELETE FROM alarm_acks WHERE alarm_id = ?").execute(arguments: [id])
                try db.cachedStatement(sql: "DELETE FROM alarms WHERE cleared_ms < ?").execute(arguments: [
                    atMs - Self.clearedAlarmRetentionMs
                ])
            }
        }
    }

    /// Open alarms first (oldest first), then, with `includeCleared`, the newest cleared ones.
    public func alarms(includeCleared: Bool = false, limit: Int = 1000) throws -> [StoredAlarm] {
        try pool.read { db in
            let open = try Row.fetchAll(
                db, sql: "SELECT * FROM alarms WHERE cleared_ms IS NULL ORDER BY raised_ms, alarm_id LIMIT ?",
                arguments: [limit])
            let cleared =
                includeCleared
                ? try Row.fetchAll(
                    db,
                    sql: "SELECT * FROM alarms WHERE cleared_ms IS NOT NULL ORDER BY cleared_ms DESC LIMIT ?",
                    arguments: [limit]) : []
            return (open + cleared).compactMap(Self.storedAlarm)
        }
    }

    private static func storedAlarm(_ row: Row) -> StoredAlarm? {
        guard let kind = Alarm.Kind(rawValue: row["type"]) else { return nil }
        return StoredAlarm(
            alarmID: row["alarm_id"],
            alarm: Alarm(
                kind: kind, lockID: row["lock_id"], poleID: row["pole_id"], spaceID: row["space_id"],
                timestampMs: row["raised_ms"], detail: row["detail"]),
            clearedMs: row["cleared_ms"], clearedBy: row["cleared_by"], operatorName: row["operator"],
            note: row["note"])
    }

    /// Asks the running gateway to clear an open alarm (`accessctl alarms ack`); it applies the
    /// request within a second or two, publishes the alarm's end and records who and why.
    public func requestAlarmAcknowledgement(alarmID: String, operatorName: String, note: String, nowMs: Int64)
        async throws
    {
        try await pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM alarms WHERE alarm_id = ?", arguments: [alarmID])
            else { throw AlarmAckError.unknown(alarmID) }
            if let by: String = row["cleared_by"] { throw AlarmAckError.alreadyCleared(alarmID, by: by) }
            try db.execute(
                sql: """
                    INSERT INTO alarm_acks (alarm_id, operator, note, requested_ms) VALUES (?, ?, ?, ?)
                    ON CONFLICT(alarm_id) DO UPDATE SET operator = excluded.operator, note = excluded.note
                    """, arguments: [alarmID, operatorName, note, nowMs])
        }
    }

    public func pendingAlarmAcknowledgements(limit: Int = 100) throws -> [AlarmAcknowledgement] {
        try pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT alarm_id, operator, note FROM alarm_acks ORDER BY requested_ms LIMIT ?",
                arguments: [limit]
            ).map { AlarmAcknowledgement(alarmID: $0[0], operatorName: $0[1], note: $0[2]) }
        }
    }

    /// An acknowledgement the gateway could not apply (the alarm is no longer open there).
    public func dropAlarmAcknowledgement(alarmID: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM alarm_acks WHERE alarm_id = ?", arguments: [alarmID])
        }
    }
}
