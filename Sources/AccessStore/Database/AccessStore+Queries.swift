import AccessCore
import AccessProtocol
import Foundation
import GRDB

extension AccessStore {
    /// Reservations matching every given filter, by start time.
    public func reservations(
        spaceID: String? = nil, holder: String? = nil, activeAtMs: Int64? = nil, status: ReservationStatus? = nil,
        limit: Int = 1000
    ) throws -> [Reservation] {
        var clauses: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        if let spaceID {
            clauses.append("space_id = ?")
            arguments.append(spaceID)
        }
        if let holder {
            clauses.append("holder = ?")
            arguments.append(holder)
        }
        if let activeAtMs {
            clauses.append("start_ms - grace_before_s * 1000 <= ? AND end_ms + grace_after_s * 1000 >= ?")
            arguments.append(activeAtMs)
            arguments.append(activeAtMs)
        }
        if let status {
            clauses.append("status = ?")
            arguments.append(status.rawValue)
        }
        let filter = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        return try pool.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT \(Reservation.selectColumns) FROM reservations \(filter) ORDER BY start_ms, id LIMIT ?",
                arguments: StatementArguments(arguments + [limit])
            ).map { try Reservation(row: $0) }
        }
    }

    /// Audit records matching every given filter, in chain order (newest last).
    public func auditRecords(
        lockID: String? = nil, reservationID: String? = nil, holder: String? = nil, fromMs: Int64? = nil,
        toMs: Int64? = nil, granted: Bool? = nil, afterSeq: Int64 = 0, limit: Int = 1000, newest: Bool = false
    ) throws -> [CommittedAuditRecord] {
        var clauses = ["seq > ?"]
        var arguments: [any DatabaseValueConvertible] = [afterSeq]
        for (column, value) in [("lock_id", lockID), ("reservation_id", reservationID), ("holder", holder)] {
            if let value {
                clauses.append("\(column) = ?")
                arguments.append(value)
            }
        }
        if let fromMs {
            clauses.append("ts >= ?")
            arguments.append(fromMs)
        }
        if let toMs {
            clauses.append("ts <= ?")
            arguments.append(toMs)
        }
        if let granted {
            clauses.append("granted = ?")
            arguments.append(granted)
        }
        let order = newest ? "DESC" : "ASC"
        let records = try pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT seq, ts, gateway_id, lock_id, request_id, credential_type, reservation_id, holder, jti,
                        granted, reason, command_id, operator, note, hash, count, event
                    FROM audit_log WHERE \(clauses.joined(separator: " AND ")) ORDER BY seq \(order) LIMIT ?
                    """, arguments: StatementArguments(arguments + [limit])
            ).map { row -> CommittedAuditRecord in
                let reasonText: String = row[10]
                let record = AuditRecord(
                    seq: row[0], timestampMs: row[1], gatewayID: row[2], lockID: row[3], requestID: row[4],
                    credentialType: row[5], reservationID: row[6], holder: row[7], jti: row[8], granted: row[9],
                    reason: DecisionReason(rawValue: reasonText) ?? .internalError, commandID: row[11],
                    operatorName: row[12], note: row[13], count: row[15], event: row[16])
                return CommittedAuditRecord(record: record, hash: row[14])
            }
        }
        return newest ? records.reversed() : records
    }

    /// Row counts and file facts for `accessctl db stats`.
    public func statistics() throws -> [(String, String)] {
        try pool.read { db in
            var rows: [(String, String)] = []
            for table in [
                "reservations", "reservation_tombstones", "revoked_tokens", "used_tokens", "device_state", "audit_log",
            ] {
                rows.append((table, String(try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? 0)))
            }
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            let pageSize = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 0
            rows.append(("database_bytes", String(pages * pageSize)))
            rows.append(("journal_mode", try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "?"))
            return rows
        }
    }

    /// An online backup into a new file, consistent even while the gateway writes.
    public func backup(to path: String) throws {
        let destination = try DatabaseQueue(path: path)
        try pool.backup(to: destination)
    }
}

extension AccessStore {
    /// Whether an operator unlock with this request id was audited for this lock since `sinceMs`:
    /// the replay check that survives a restart (the audit record is committed before the
    /// command, so a request that opened a door is always found).
    public func hasOperatorRecord(lockID: String, requestID: String, sinceMs: Int64) throws -> Bool {
        try pool.read { db in
            try Int.fetchOne(
                db,
                sql: """
                    SELECT 1 FROM audit_log
                    WHERE lock_id = ? AND ts >= ? AND request_id = ? AND credential_type = 'operator' LIMIT 1
                    """, arguments: [lockID, sinceMs, requestID]) != nil
        }
    }
}

extension AccessStore {
    /// The hash of the audit record with this `seq`; nil when the store holds none.
    public func auditHash(atSeq seq: Int64) throws -> String? {
        try pool.read { db in try String.fetchOne(db, sql: "SELECT hash FROM audit_log WHERE seq = ?", arguments: [seq])
        }
    }
}
