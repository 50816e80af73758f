import AccessCore
import AccessProtocol
import GRDB

extension Reservation {
    /// The columns, in the order `init(row:)` reads them.
    static let selectColumns =
        "id, space_id, holder, start_ms, end_ms, status, version, grace_before_s, grace_after_s, single_use, spent"

    init(row: Row) throws {
        let id: String = row[0]
        let statusText: String = row[5]
        guard let status = ReservationStatus(rawValue: statusText) else {
            throw StoreError.corruptRow(table: "reservations", key: id, problem: "status \(statusText)")
        }
        self.init(
            id: id, spaceID: row[1], holder: row[2], startMs: row[3], endMs: row[4], status: status, version: row[6],
            graceBeforeS: row[7], graceAfterS: row[8], singleUse: row[9], spent: row[10])
    }
}
