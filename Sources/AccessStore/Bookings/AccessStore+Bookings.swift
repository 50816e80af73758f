import AccessCore
import AccessProtocol
import Foundation
import GRDB

extension AccessStore {
    /// Applies one booking message in its own transaction; idempotent by `version`.
    public func apply(_ message: BookingMessage, nowMs: Int64) throws -> BookingApplyOutcome {
        let pinIndex = self.pinIndex
        return try pool.write { db in try Self.apply(message, nowMs: nowMs, pinIndex: pinIndex, in: db) }
    }

    /// Applies booking messages in one transaction (a batch of an import); idempotent by `version`.
    public func apply(_ messages: [BookingMessage], nowMs: Int64) throws -> [BookingApplyOutcome] {
        let pinIndex = self.pinIndex
        return try pool.write { db in try messages.map { try Self.apply($0, nowMs: nowMs, pinIndex: pinIndex, in: db) }
        }
    }

    /// Applies one booking message inside the caller's transaction.
    static func apply(
        _ message: BookingMessage, nowMs: Int64, pinIndex: PINIndex, in db: Database
    ) throws -> BookingApplyOutcome {
        switch message {
        case .upsert(let reservation):
            let stored = try storedVersion(of: reservation.id, in: db)
            guard stored.map({ reservation.version > $0 }) ?? true else { return .ignoredAsOlder }
            // `spent` is not in the update: a spent single-use reservation stays spent when rescheduled.
            try db.cachedStatement(
                sql: """
                    INSERT INTO reservations (id, space_id, holder, start_ms, end_ms, status, version,
                        grace_before_s, grace_after_s, single_use, spent, pin_digest)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)
                    ON CONFLICT(id) DO UPDATE SET space_id = excluded.space_id, holder = excluded.holder,
                        start_ms = excluded.start_ms, end_ms = excluded.end_ms, status = excluded.status,
                        version = excluded.version, grace_before_s = excluded.grace_before_s,
                        grace_after_s = excluded.grace_after_s, single_use = excluded.single_use,
                        pin_digest = excluded.pin_digest
                    """
            ).execute(arguments: [
                reservation.id, reservation.spaceID, reservation.holder, reservation.startMs, reservation.endMs,
                reservation.status.rawValue, reservation.version, reservation.graceBeforeS, reservation.graceAfterS,
                reservation.singleUse, Data(pinIndex.digest(of: reservation)),
            ])
            try db.cachedStatement(sql: "DELETE FROM reservation_tombstones WHERE id = ?")
                .execute(arguments: [reservation.id])
            return .applied
        case .cancel(let id, let version):
            let stored = try storedVersion(of: id, in: db)
            guard stored.map({ version > $0 }) ?? true else { return .ignoredAsOlder }
            try db.cachedStatement(sql: "UPDATE reservations SET status = 'cancelled', version = ? WHERE id = ?")
                .execute(arguments: [version, id])
            if db.changesCount == 0 {
                try db.cachedStatement(
                    sql: """
                        INSERT INTO reservation_tombstones (id, version) VALUES (?, ?)
                        ON CONFLICT(id) DO UPDATE SET version = excluded.version
                        """
                ).execute(arguments: [id, version])
            }
            return .applied
        case .revoke(let jti):
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO revoked_tokens (jti, revoked_at_ms) VALUES (?, ?)")
                .execute(arguments: [jti, nowMs])
            return db.changesCount > 0 ? .applied : .unchanged
        case .resync:
            // Moves the feed's position only (`applyFeed`); there is nothing to store.
            return .unchanged
        }
    }

    /// The higher of the reservation's version and its tombstone's, if either exists.
    private static func storedVersion(of id: String, in db: Database) throws -> Int64? {
        let reservation = try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT version FROM reservations WHERE id = ?"), arguments: [id])
        let tombstone = try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT version FROM reservation_tombstones WHERE id = ?"), arguments: [id])
        switch (reservation, tombstone) {
        case (let r?, let t?): return max(r, t)
        case (let r?, nil): return r
        case (nil, let t?): return t
        case (nil, nil): return nil
        }
    }
}
