import AccessCore
import AccessProtocol
import Foundation
import GRDB

extension AccessStore {
    /// What the rules need to know about a verified token: one snapshot, three primary-key reads.
    public func tokenFacts(jti: String, reservationID: String) throws -> TokenFacts {
        try pool.read { db in
            let revoked =
                try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT 1 FROM revoked_tokens WHERE jti = ?"), arguments: [jti]) != nil
            let reservation = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT \(Reservation.selectColumns) FROM reservations WHERE id = ?"),
                arguments: [reservationID]
            ).map(Reservation.init(row:))
            var tombstoned = false
            if reservation == nil {
                tombstoned =
                    try Row.fetchOne(
                        db.cachedStatement(sql: "SELECT 1 FROM reservation_tombstones WHERE id = ?"),
                        arguments: [reservationID]) != nil
            }
            return TokenFacts(jtiRevoked: revoked, reservation: reservation, reservationTombstoned: tombstoned)
        }
    }

    /// Reservations of a space whose PIN digest equals that of `pin` (an index range read), in id
    /// order. The caller confirms each by deriving its PIN.
    public func pinCandidates(spaceID: String, pin: String) throws -> [Reservation] {
        let digest = Data(pinIndex.digest(pin: pin))
        return try pool.read { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT \(Reservation.selectColumns) FROM reservations
                        WHERE space_id = ? AND pin_digest = ? ORDER BY id
                        """),
                arguments: [spaceID, digest]
            ).map(Reservation.init(row:))
        }
    }

    public func reservation(id: String) throws -> Reservation? {
        try pool.read { db in
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT \(Reservation.selectColumns) FROM reservations WHERE id = ?"),
                arguments: [id]
            ).map(Reservation.init(row:))
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
