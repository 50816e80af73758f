import AccessCore
import AccessProtocol
import Foundation
import GRDB

extension AccessStore {
    // MARK: Cards

    public struct HolderCard: Sendable, Hashable {
        public var holder: String
        public var label: String?
        public var addedMs: Int64
        /// The digest's first 4 bytes in hex: enough to tell cards apart in a list, never the number.
        public var tag: String

        public init(holder: String, label: String?, addedMs: Int64, digest: some Collection<UInt8>) {
            self.holder = holder
            self.label = label
            self.addedMs = addedMs
            tag = AuditChain.hexString(digest.prefix(4))
        }
    }

    /// Registers a card (by keyed digest) to `holder`; a card already registered moves to it.
    public func addCard(digest: [UInt8], holder: String, label: String?, nowMs: Int64) throws {
        try pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO holder_cards (digest, holder, label, added_ms) VALUES (?, ?, ?, ?)
                    ON CONFLICT (digest) DO UPDATE SET holder = excluded.holder, label = excluded.label,
                        added_ms = excluded.added_ms
                    """, arguments: [Data(digest), holder, label, nowMs])
        }
    }

    /// Removes a card; false when it was not registered.
    public func removeCard(digest: [UInt8]) throws -> Bool {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM holder_cards WHERE digest = ?", arguments: [Data(digest)])
            return db.changesCount > 0
        }
    }

    public func cards(holder: String? = nil) throws -> [HolderCard] {
        try pool.read { db in
            let sql = "SELECT digest, holder, label, added_ms FROM holder_cards"
            let rows =
                try holder.map {
                    try Row.fetchAll(db, sql: sql + " WHERE holder = ? ORDER BY added_ms", arguments: [$0])
                } ?? Row.fetchAll(db, sql: sql + " ORDER BY holder, added_ms")
            return rows.map { row in
                let digest: Data = row[0]
                return HolderCard(holder: row[1], label: row[2], addedMs: row[3], digest: digest)
            }
        }
    }

    /// The holder a card is registered to, and their reservations of `spaceID` (for the rules).
    public func cardFacts(digest: [UInt8], spaceID: String) throws -> (holder: String?, reservations: [Reservation]) {
        try pool.read { db in
            guard
                let holder = try String.fetchOne(
                    db.cachedStatement(sql: "SELECT holder FROM holder_cards WHERE digest = ?"),
                    arguments: [Data(digest)])
            else { return (nil, []) }
            let reservations = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT \(Reservation.selectColumns) FROM reservations
                        WHERE holder = ? AND space_id = ? ORDER BY start_ms LIMIT 1000
                        """), arguments: [holder, spaceID]
            ).map { try Reservation(row: $0) }
            return (holder, reservations)
        }
    }

    // MARK: PIN slots

    /// Reservations of a space whose window (with grace) may be open between `fromMs` and `toMs`
    /// (cancelled ones included: a slot holding one must be cleared).
    public func reservations(spaceID: String, openingBy toMs: Int64, endingAfter fromMs: Int64) throws -> [Reservation]
    {
        try pool.read { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT \(Reservation.selectColumns) FROM reservations
                        WHERE space_id = ? AND start_ms - grace_before_s * 1000 <= ?
                          AND end_ms + grace_after_s * 1000 >= ?
                        ORDER BY start_ms LIMIT 10000
                        """), arguments: [spaceID, toMs, fromMs]
            ).map { try Reservation(row: $0) }
        }
    }

    /// Reservations by id (a slot's, which may have left the window).
    public func reservations(ids: [String]) throws -> [Reservation] {
        guard !ids.isEmpty else { return [] }
        return try pool.read { db in
            try ids.compactMap { id in
                try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT \(Reservation.selectColumns) FROM reservations WHERE id = ?"),
                    arguments: [id]
                ).map { try Reservation(row: $0) }
            }
        }
    }

    public func pinSlots(lockID: String) throws -> [PINSlot] {
        try pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT slot, reservation_id, state, attempts, sent_ms, next_try_ms FROM pin_slots
                    WHERE lock_id = ? ORDER BY slot
                    """, arguments: [lockID]
            ).map { row in
                let stateText: String = row[2]
                guard let state = PINSlot.State(rawValue: stateText) else {
                    throw StoreError.corruptRow(
                        table: "pin_slots", key: "\(lockID)/\(row[0] as Int)", problem: stateText)
                }
                return PINSlot(
                    slot: row[0], reservationID: row[1], state: state, attempts: row[3], sentMs: row[4],
                    nextTryMs: row[5])
            }
        }
    }

    /// Replaces a lock's stored slots.
    public func savePINSlots(_ slots: [PINSlot], lockID: String) throws {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM pin_slots WHERE lock_id = ?", arguments: [lockID])
            for slot in slots {
                try db.execute(
                    sql: """
                        INSERT INTO pin_slots (lock_id, slot, reservation_id, state, attempts, sent_ms, next_try_ms)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        lockID, slot.slot, slot.reservationID, slot.state.rawValue, slot.attempts, slot.sentMs,
                        slot.nextTryMs,
                    ])
            }
        }
    }
}
