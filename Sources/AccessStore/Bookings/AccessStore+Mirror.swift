import AccessCore
import AccessProtocol
import GRDB

extension AccessStore {
    /// The store's bookings as messages that rebuild them under the version rule, a page at a
    /// time in id order (a shared database that missed messages is brought level with them):
    /// each reservation as an upsert at its version (a cancelled one keeps its status), then
    /// tombstones as cancels, then revocations.
    public func bookingMessages(after cursor: String?, limit: Int) throws -> (messages: [BookingMessage], next: String?)
    {
        try pool.read { db in
            var messages: [BookingMessage] = []
            let key = cursor ?? ""
            // Keys are prefixed so the three tables page in one sequence.
            if key.isEmpty || key.hasPrefix("r:") {
                let after = key.isEmpty ? "" : String(key.dropFirst(2))
                let rows = try Row.fetchAll(
                    db,
                    sql: "SELECT \(Reservation.selectColumns) FROM reservations WHERE id > ? ORDER BY id LIMIT ?",
                    arguments: [after, limit])
                for row in rows { messages.append(.upsert(try Reservation(row: row))) }
                if case .upsert(let last)? = messages.last, rows.count == limit { return (messages, "r:\(last.id)") }
            }
            if key.isEmpty || key.hasPrefix("r:") || key.hasPrefix("t:") {
                let after = key.hasPrefix("t:") ? String(key.dropFirst(2)) : ""
                for row in try Row.fetchAll(
                    db, sql: "SELECT id, version FROM reservation_tombstones WHERE id > ? ORDER BY id",
                    arguments: [after])
                {
                    messages.append(.cancel(reservationID: row[0], version: row[1]))
                }
                for jti in try String.fetchAll(db, sql: "SELECT jti FROM revoked_tokens ORDER BY jti") {
                    messages.append(.revoke(jti: jti))
                }
            }
            return (messages, nil)
        }
    }
}
