import AccessCore
import AccessProtocol
import AccessStore
import PostgresNIO

extension SharedStore {
    /// Applies one booking message in one transaction, with the version rule: an upsert or
    /// cancel takes effect only over a lower stored version (its reservation's and tombstone's,
    /// read under `FOR UPDATE`, so two gateways applying the same message serialize on the row and
    /// the second finds it applied). With its feed `seq`, the position advances in the same
    /// transaction: `applied_seq` per database, whatever gateway received the message.
    @discardableResult
    public func apply(_ message: BookingMessage, seq: Int64? = nil, nowMs: Int64) async throws -> BookingApplyOutcome {
        let pinIndex = self.pinIndex
        return try await bounded("apply") {
            try await self.client.withTransaction(logger: self.logger) { connection in
                let logger = self.logger
                // The feed position first, locked: a message the database already has is not applied twice.
                if let seq {
                    let applied = try await Self.isApplied(seq: seq, connection: connection, logger: logger)
                    if applied { return .ignoredAsOlder }
                }
                let outcome = try await Self.apply(
                    message, nowMs: nowMs, pinIndex: pinIndex, connection: connection, logger: logger)
                if let seq { try await Self.markApplied(seq: seq, connection: connection, logger: logger) }
                return outcome
            }
        }
    }

    /// The booking feed's `appliedSeq` in this database.
    public func appliedSeq() async throws -> Int64 {
        try await bounded("appliedSeq") {
            let rows = try await self.client.query(
                "SELECT applied_seq FROM feed_position WHERE id = 1", logger: self.logger)
            for try await seq in rows.decode(Int64.self) { return seq }
            return 0
        }
    }

    static func isApplied(seq: Int64, connection: PostgresConnection, logger: Logger) async throws -> Bool {
        let rows = try await connection.query(
            "SELECT applied_seq FROM feed_position WHERE id = 1 FOR UPDATE", logger: logger)
        var appliedSeq: Int64 = 0
        for try await value in rows.decode(Int64.self) { appliedSeq = value }
        if seq <= appliedSeq { return true }
        let above = try await connection.query("SELECT 1 FROM feed_applied_above WHERE seq = \(seq)", logger: logger)
        for try await _ in above { return true }
        return false
    }

    /// Records `seq` applied and moves `applied_seq` over every contiguous seq above it.
    static func markApplied(seq: Int64, connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            "INSERT INTO feed_applied_above (seq) VALUES (\(seq)) ON CONFLICT DO NOTHING", logger: logger)
        try await connection.query(
            """
            WITH RECURSIVE run(seq) AS (
                SELECT applied_seq + 1 FROM feed_position WHERE id = 1 AND EXISTS (
                    SELECT 1 FROM feed_applied_above a, feed_position p WHERE p.id = 1 AND a.seq = p.applied_seq + 1)
                UNION ALL
                SELECT run.seq + 1 FROM run JOIN feed_applied_above a ON a.seq = run.seq + 1
            )
            UPDATE feed_position SET applied_seq = COALESCE((SELECT max(seq) FROM run), applied_seq) WHERE id = 1
            """, logger: logger)
        try await connection.query(
            "DELETE FROM feed_applied_above WHERE seq <= (SELECT applied_seq FROM feed_position WHERE id = 1)",
            logger: logger)
    }

    static func apply(
        _ message: BookingMessage, nowMs: Int64, pinIndex: PINIndex, connection: PostgresConnection, logger: Logger
    ) async throws -> BookingApplyOutcome {
        switch message {
        case .upsert(let reservation):
            let stored = try await storedVersion(of: reservation.id, connection: connection, logger: logger)
            guard stored.map({ reservation.version > $0 }) ?? true else { return .ignoredAsOlder }
            let digest = pinIndex.digest(of: reservation)
            // `spent` is not in the update: a spent single-use reservation stays spent when rescheduled.
            try await connection.query(
                """
                INSERT INTO reservations (id, space_id, holder, start_ms, end_ms, status, version,
                    grace_before_s, grace_after_s, single_use, spent, pin_digest)
                VALUES (\(reservation.id), \(reservation.spaceID), \(reservation.holder), \(reservation.startMs),
                    \(reservation.endMs), \(reservation.status.rawValue), \(reservation.version),
                    \(reservation.graceBeforeS), \(reservation.graceAfterS), \(reservation.singleUse), false,
                    \(ByteBuffer(bytes: digest)))
                ON CONFLICT (id) DO UPDATE SET space_id = excluded.space_id, holder = excluded.holder,
                    start_ms = excluded.start_ms, end_ms = excluded.end_ms, status = excluded.status,
                    version = excluded.version, grace_before_s = excluded.grace_before_s,
                    grace_after_s = excluded.grace_after_s, single_use = excluded.single_use,
                    pin_digest = excluded.pin_digest
                """, logger: logger)
            try await connection.query(
                "DELETE FROM reservation_tombstones WHERE id = \(reservation.id)", logger: logger)
            return .applied
        case .cancel(let id, let version):
            let stored = try await storedVersion(of: id, connection: connection, logger: logger)
            guard stored.map({ version > $0 }) ?? true else { return .ignoredAsOlder }
            let rows = try await connection.query(
                "UPDATE reservations SET status = 'cancelled', version = \(version) WHERE id = \(id) RETURNING id",
                logger: logger)
            var updated = false
            for try await _ in rows { updated = true }
            if !updated {
                try await connection.query(
                    """
                    INSERT INTO reservation_tombstones (id, version) VALUES (\(id), \(version))
                    ON CONFLICT (id) DO UPDATE SET version = excluded.version
                    """, logger: logger)
            }
            return .applied
        case .revoke(let jti):
            let rows = try await connection.query(
                "INSERT INTO revoked_tokens (jti, revoked_at_ms) VALUES (\(jti), \(nowMs)) ON CONFLICT DO NOTHING RETURNING jti",
                logger: logger)
            for try await _ in rows { return .applied }
            return .unchanged
        case .resync:
            return .unchanged
        }
    }

    /// The higher of the reservation's and its tombstone's version, both rows locked (a missing id
    /// is serialized by the primary key: a concurrent insert of the same id waits for this one).
    static func storedVersion(of id: String, connection: PostgresConnection, logger: Logger) async throws -> Int64? {
        var version: Int64?
        let reservation = try await connection.query(
            "SELECT version FROM reservations WHERE id = \(id) FOR UPDATE", logger: logger)
        for try await value in reservation.decode(Int64.self) { version = value }
        let tombstone = try await connection.query(
            "SELECT version FROM reservation_tombstones WHERE id = \(id) FOR UPDATE", logger: logger)
        for try await value in tombstone.decode(Int64.self) { version = max(version ?? value, value) }
        return version
    }
}
