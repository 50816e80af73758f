import AccessCore
import AccessProtocol
import Foundation
import GRDB

extension AccessStore {
    // The two lookups of a decision read outside a transaction: each is one SELECT, which SQLite
    // runs on one snapshot of its own, so a BEGIN and COMMIT around it would only add two
    // statements and a lock round per decision.

    /// What the rules need to know about a verified token, in one statement (one snapshot): is the
    /// jti revoked, the reservation, and whether a cancel left a tombstone where it is gone.
    public func tokenFacts(jti: String, reservationID: String) throws -> TokenFacts {
        try lookup(.tokenFacts) { statement in
            var facts = TokenFacts(jtiRevoked: false, reservation: nil, reservationTombstoned: false)
            try statement.run([.text(jti), .text(reservationID)]) { row in
                let reservation = row.isNull(2) ? nil : try Reservation(lookup: row, offset: 2)
                facts = TokenFacts(
                    jtiRevoked: row.bool(0), reservation: reservation,
                    reservationTombstoned: reservation == nil && row.bool(1))
            }
            return facts
        }
    }

    static let tokenFactsSQL = """
        SELECT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = ?1),
            EXISTS (SELECT 1 FROM reservation_tombstones WHERE id = ?2),
            \(Reservation.selectColumns.split(separator: ",").map { "r." + $0.trimmingCharacters(in: .whitespaces) }
                .joined(separator: ", "))
        FROM (SELECT ?2 AS wanted) AS w LEFT JOIN reservations AS r ON r.id = w.wanted
        """

    /// Reservations of a space whose PIN digest equals that of `pin` (an index range read), in id
    /// order. The caller confirms each by deriving its PIN.
    public func pinCandidates(spaceID: String, pin: String) throws -> [Reservation] {
        let digest = pinIndex.digest(pin: pin)
        return try lookup(.pinCandidates) { statement in
            var candidates: [Reservation] = []
            try statement.run([.text(spaceID), .blob(digest)]) { row in candidates.append(try Reservation(lookup: row))
            }
            return candidates
        }
    }

    static let pinCandidatesSQL = """
        SELECT \(Reservation.selectColumns) FROM reservations
        WHERE space_id = ? AND pin_digest = ? ORDER BY id
        """

    /// Runs a lookup's statement (`RawStatement`) on a `LookupReaders` connection, or, when every
    /// one of those is busy, on one of the pool's readers: the same statement and the same
    /// reading of its rows either way.
    private func lookup<T>(_ lookup: LookupReaders.Lookup, _ body: (RawStatement) throws -> T) throws -> T {
        let onOwnConnection = try lookupReaders.read { reader, db in
            try body(RawStatement(try reader.statement(lookup, db)))
        }
        if let result = onOwnConnection { return result }
        return try pool.unsafeRead { db in try body(RawStatement(try db.cachedStatement(sql: lookup.sql))) }
    }

    public func reservation(id: String) throws -> Reservation? {
        try pool.read { db in
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT \(Reservation.selectColumns) FROM reservations WHERE id = ?"),
                arguments: [id]
            ).map { try Reservation(row: $0) }
        }
    }

    public func reservationCount() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM reservations") ?? 0 }
    }

    public func isRevoked(jti: String) throws -> Bool {
        try pool.read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM revoked_tokens WHERE jti = ?"), arguments: [jti])
                != nil
        }
    }

    /// The version a cancel for an unknown id left behind, if any.
    public func tombstoneVersion(id: String) throws -> Int64? {
        try pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT version FROM reservation_tombstones WHERE id = ?", arguments: [id])
        }
    }
}
