import AccessCore
import AccessProtocol
import GRDB

extension AccessStore {
    /// The latest known state of a lock or pole, as operators see it.
    public struct DeviceState: Sendable, Hashable {
        public var kind: String
        public var id: String
        public var online: Bool?
        public var battery: Int?
        public var firmware: String?
        public var rssi: Int?
        public var doorState: String?
        public var lockState: String?
        public var lastSeenMs: Int64
        /// The device's alarms whose episode is still open (kept by the gateway).
        public var openAlarms: [String] = []

        public init(
            kind: String, id: String, online: Bool? = nil, battery: Int? = nil, firmware: String? = nil,
            rssi: Int? = nil, doorState: String? = nil, lockState: String? = nil, lastSeenMs: Int64
        ) {
            self.kind = kind
            self.id = id
            self.online = online
            self.battery = battery
            self.firmware = firmware
            self.rssi = rssi
            self.doorState = doorState
            self.lockState = lockState
            self.lastSeenMs = lastSeenMs
        }
    }

    /// A device's open alarms, as `accessctl devices` shows them.
    public struct OpenAlarms: Sendable, Hashable {
        public var kind: String
        public var id: String
        public var alarms: [String]

        public init(kind: String, id: String, alarms: [String]) {
            self.kind = kind
            self.id = id
            self.alarms = alarms
        }
    }

    /// Merges reports (fields that are nil keep their stored value) and open-alarm lists in one
    /// transaction; the gateway's coalescing writer calls this a few times a second, whatever the
    /// devices send.
    public func recordDeviceStates(
        _ states: [DeviceState], openAlarms: [OpenAlarms], alarmEvents: [AlarmEvent] = []
    ) async throws {
        guard !states.isEmpty || !openAlarms.isEmpty || !alarmEvents.isEmpty else { return }
        try await pool.write { db in
            for state in states { try Self.mergeDeviceState(state, db: db) }
            try Self.writeAlarmEvents(alarmEvents, db: db)
            for open in openAlarms {
                try db.cachedStatement(
                    sql: """
                        INSERT INTO device_state (kind, id, last_seen_ms, detail) VALUES (?, ?, 0, ?)
                        ON CONFLICT(kind, id) DO UPDATE SET detail = excluded.detail
                        """
                ).execute(arguments: [open.kind, open.id, open.alarms.sorted().joined(separator: ",")])
            }
        }
    }

    private static func mergeDeviceState(_ state: DeviceState, db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO device_state (kind, id, online, battery, firmware, rssi, door_state, lock_state, last_seen_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(kind, id) DO UPDATE SET
                    online = coalesce(excluded.online, online), battery = coalesce(excluded.battery, battery),
                    firmware = coalesce(excluded.firmware, firmware), rssi = coalesce(excluded.rssi, rssi),
                    door_state = coalesce(excluded.door_state, door_state),
                    lock_state = coalesce(excluded.lock_state, lock_state), last_seen_ms = excluded.last_seen_ms
                """
        ).execute(arguments: [
            state.kind, state.id, state.online, state.battery, state.firmware, state.rssi, state.doorState,
            state.lockState, state.lastSeenMs,
        ])
    }

    public func deviceStates() throws -> [DeviceState] {
        try pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT kind, id, online, battery, firmware, rssi, door_state, lock_state, last_seen_ms, detail
                    FROM device_state ORDER BY kind, id
                    """
            ).map {
                var state = DeviceState(
                    kind: $0[0], id: $0[1], online: $0[2], battery: $0[3], firmware: $0[4], rssi: $0[5],
                    doorState: $0[6], lockState: $0[7], lastSeenMs: $0[8])
                let detail: String? = $0[9]
                state.openAlarms = (detail ?? "").split(separator: ",").map(String.init)
                return state
            }
        }
    }

    /// For overstay: when the space's last confirmed reservation (with grace) ended at or before
    /// `nowMs`, and whether one is active at `nowMs`.
    public func spaceOccupancy(spaceID: String, nowMs: Int64) throws -> (lastEndMs: Int64?, active: Bool) {
        try pool.read { db in
            let lastEnd = try Int64.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT max(end_ms + grace_after_s * 1000) FROM reservations
                        WHERE space_id = ? AND status = 'confirmed' AND end_ms + grace_after_s * 1000 <= ?
                        """), arguments: [spaceID, nowMs])
            let active =
                try Row.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT 1 FROM reservations
                            WHERE space_id = ? AND status = 'confirmed' AND start_ms <= ? + 604800000
                              AND start_ms - grace_before_s * 1000 <= ? AND end_ms + grace_after_s * 1000 >= ?
                            LIMIT 1
                            """), arguments: [spaceID, nowMs, nowMs, nowMs]) != nil
            return (lastEnd, active)
        }
    }
}
