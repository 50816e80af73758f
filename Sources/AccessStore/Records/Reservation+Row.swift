import AccessCore
import AccessProtocol
import GRDB

extension Reservation {
    /// The columns, in the order `init(row:)` reads them.
    static let selectColumns =
        "id, space_id, holder, start_ms, end_ms, status, version, grace_before_s, grace_after_s, single_use, spent"

    /// Reads `selectColumns` from the row's columns `offset` on.
    init(row: Row, offset: Int = 0) throws {
        let id: String = row[offset]
        let statusText: String = row[offset + 5]
        guard let status = ReservationStatus(rawValue: statusText) else {
            throw StoreError.corruptRow(table: "reservations", key: id, problem: "status \(statusText)")
        }
        self.init(
            id: id, spaceID: row[offset + 1], holder: row[offset + 2], startMs: row[offset + 3],
            endMs: row[offset + 4], status: status, version: row[offset + 6], graceBeforeS: row[offset + 7],
            graceAfterS: row[offset + 8], singleUse: row[offset + 9], spent: row[offset + 10])
    }
}
