import AccessCore
import AccessProtocol
import GRDB

extension AccessStore {
    /// Seqs applied above `appliedSeq` kept while a gap is open; beyond this many, later ones are
    /// not remembered (they are applied all the same, and the replay brings them again).
    public static let maximumSeqsAhead = 100_000

    /// The booking feed's position as stored.
    public struct BookingFeedPosition: Sendable, Hashable {
        /// Every message up to this `seq` has been applied.
        public var appliedSeq: Int64
        /// The highest `seq` applied, above `appliedSeq` while a gap is open.
        public var highestSeq: Int64
        public var lastMessageMs: Int64?
    }

    /// Applies one message of the feed (v1.1) and moves `appliedSeq` in the same transaction: a
    /// message with the next `seq` advances it (over any applied ahead of it), one further ahead
    /// is remembered until the gap closes, a `resync` sets it to its `seq` if higher. A message
    /// without `seq` (a v1 backend) is applied and leaves the position alone.
    public func applyFeed(_ message: BookingMessage, seq: Int64?, nowMs: Int64) throws -> (
        outcome: BookingApplyOutcome, position: BookingFeedPosition
    ) {
        let pinIndex = self.pinIndex
        return try pool.write { db in
            let outcome = try Self.apply(message, nowMs: nowMs, pinIndex: pinIndex, in: db)
            var applied = try Self.feedAppliedSeq(db)
            if case .resync(let to) = message {
                applied = max(applied, to)
                try db.execute(sql: "DELETE FROM booking_feed_ahead WHERE seq <= ?", arguments: [applied])
            } else if let seq, seq > applied {
                if seq == applied + 1 {
                    applied = seq
                } else if try Int.fetchOne(db, sql: "SELECT count(*) FROM booking_feed_ahead") ?? 0
                    < Self.maximumSeqsAhead
                {
                    try db.execute(sql: "INSERT OR IGNORE INTO booking_feed_ahead (seq) VALUES (?)", arguments: [seq])
                }
            }
            // Close over what was applied ahead of the gap.
            while try Int64.fetchOne(
                db, sql: "SELECT seq FROM booking_feed_ahead WHERE seq = ?", arguments: [applied + 1])
                != nil
            {
                applied += 1
                try db.execute(sql: "DELETE FROM booking_feed_ahead WHERE seq = ?", arguments: [applied])
            }
            try db.execute(
                sql: "UPDATE booking_feed SET applied_seq = ?, last_message_ms = ? WHERE id = 1",
                arguments: [applied, nowMs])
            return (outcome, try Self.feedPosition(db))
        }
    }

    public func bookingFeedPosition() throws -> BookingFeedPosition {
        try pool.read { db in try Self.feedPosition(db) }
    }

    private static func feedAppliedSeq(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT applied_seq FROM booking_feed WHERE id = 1") ?? 0
    }

    private static func feedPosition(_ db: Database) throws -> BookingFeedPosition {
        let row = try Row.fetchOne(db, sql: "SELECT applied_seq, last_message_ms FROM booking_feed WHERE id = 1")
        let applied: Int64 = row?[0] ?? 0
        let highest = try Int64.fetchOne(db, sql: "SELECT max(seq) FROM booking_feed_ahead") ?? applied
        return BookingFeedPosition(appliedSeq: applied, highestSeq: max(applied, highest), lastMessageMs: row?[1])
    }
}
