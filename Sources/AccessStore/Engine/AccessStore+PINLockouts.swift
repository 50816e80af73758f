import AccessCore
import GRDB

/// PIN lockouts survive a restart: each state is written in the transaction of the audit record
/// of the PIN that changed it, and every stored one is read back when the engine starts.
extension AccessStore {
    static func savePINLockout(_ lockout: PINLockout.Snapshot, lockID: String, db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO pin_lockouts (lock_id, failure_times_ms, locked_until_ms, last_lockout_s,
                    last_lockout_ended_ms)
                VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(lock_id) DO UPDATE SET failure_times_ms = excluded.failure_times_ms,
                    locked_until_ms = excluded.locked_until_ms, last_lockout_s = excluded.last_lockout_s,
                    last_lockout_ended_ms = excluded.last_lockout_ended_ms
                """
        ).execute(arguments: [
            lockID, lockout.failureTimesMs.map(String.init).joined(separator: ","), lockout.lockedUntilMs,
            lockout.lastLockoutS, lockout.lastLockoutEndedMs,
        ])
    }

    /// Every stored lockout state, by lock id. A row that does not parse is skipped (the lock
    /// starts with a clean count, as before this table existed) and reported to the caller.
    public func pinLockouts() throws -> (states: [String: PINLockout.Snapshot], unreadable: [String]) {
        try pool.read { db in
            var states: [String: PINLockout.Snapshot] = [:]
            var unreadable: [String] = []
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT lock_id, failure_times_ms, locked_until_ms, last_lockout_s, last_lockout_ended_ms
                    FROM pin_lockouts
                    """)
            while let row = try rows.next() {
                let lockID: String = row[0]
                let text: String = row[1]
                let times = text.isEmpty ? [] : text.split(separator: ",").map { Int64($0) }
                guard times.allSatisfy({ $0 != nil }) else {
                    unreadable.append(lockID)
                    continue
                }
                states[lockID] = PINLockout.Snapshot(
                    failureTimesMs: times.compactMap { $0 }, lockedUntilMs: row[2], lastLockoutS: row[3],
                    lastLockoutEndedMs: row[4])
            }
            return (states, unreadable)
        }
    }
}
