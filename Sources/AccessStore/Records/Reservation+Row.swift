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

    /// Reads `selectColumns` from a lookup's row (`RawStatement`), columns `offset` on.
    init(lookup row: RawStatement.Row, offset: Int32 = 0) throws {
        guard let id = row.text(offset) else {
            throw StoreError.corruptRow(table: "reservations", key: "?", problem: "id is NULL")
        }
        guard let spaceID = row.text(offset + 1), let holder = row.text(offset + 2) else {
            throw StoreError.corruptRow(table: "reservations", key: id, problem: "space_id or holder is NULL")
        }
        let statusText = row.text(offset + 5) ?? "NULL"
        guard let status = ReservationStatus(rawValue: statusText) else {
            throw StoreError.corruptRow(table: "reservations", key: id, problem: "status \(statusText)")
        }
        self.init(
            id: id, spaceID: spaceID, holder: holder, startMs: row.int64(offset + 3), endMs: row.int64(offset + 4),
            status: status, version: row.int64(offset + 6), graceBeforeS: row.int64(offset + 7),
            graceAfterS: row.int64(offset + 8), singleUse: row.bool(offset + 9), spent: row.bool(offset + 10))
    }
}
