import GRDB
import GRDBSQLite

/// A statement GRDB prepared, run through SQLite's C API: the statements of every decision (its
/// lookups on a `LookupReaders` connection, its audit record in the writer's transaction). GRDB's
/// row cursor built a table of the row's column names, and its arguments boxed every value,
/// for each statement: for a lookup that was twice SQLite's own work at saturation
/// (docs/performance.md, fifth round). Used only inside its connection's queue, by the code that
/// holds that connection; the store registers no transaction observer that would miss these
/// statements. Every call to SQLite goes through `check`.
struct RawStatement {
    enum Argument {
        /// NULL when nil.
        case text(String?)
        /// NULL when nil.
        case integer(Int64?)
        case blob([UInt8])
    }

    /// One result row, valid until the next step.
    struct Row {
        let statement: OpaquePointer

        func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_NULL }
        func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }
        func bool(_ column: Int32) -> Bool { int64(column) != 0 }

        /// nil for NULL (a text column a sound store never leaves NULL: the caller says what is wrong).
        func text(_ column: Int32) -> String? {
            guard let bytes = sqlite3_column_text(statement, column) else { return nil }
            let count = Int(sqlite3_column_bytes(statement, column))
            return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
        }
    }

    /// SQLite's "copy the value now": the arguments need not outlive the bind call.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    let statement: OpaquePointer

    init(_ statement: Statement) {
        self.statement = statement.sqliteStatement
    }

    /// Binds `arguments` (?1, ?2, ...), calls `row` for each result row, then resets the statement
    /// and clears its bindings, also on error: no read transaction stays open to hold the WAL.
    func run(_ arguments: [Argument], row: (Row) throws -> Void = { _ in }) throws {
        sqlite3_reset(statement)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        for (offset, argument) in arguments.enumerated() {
            let index = Int32(offset + 1)
            switch argument {
            case .text(nil), .integer(nil):
                try check(sqlite3_bind_null(statement, index))
            case .integer(let value?):
                try check(sqlite3_bind_int64(statement, index, value))
            case .text(let text?):
                // The exact UTF-8 length, so that nothing after a NUL is lost.
                try check(sqlite3_bind_text(statement, index, text, Int32(clamping: text.utf8.count), Self.transient))
            case .blob(let bytes):
                try check(
                    bytes.withUnsafeBytes { buffer in
                        sqlite3_bind_blob(
                            statement, index, buffer.baseAddress, Int32(clamping: buffer.count), Self.transient)
                    })
            }
        }
        while true {
            let code = sqlite3_step(statement)
            if code == SQLITE_DONE { return }
            guard code == SQLITE_ROW else { throw error(code) }
            try row(Row(statement: statement))
        }
    }

    /// The one checked helper for SQLite's return codes.
    private func check(_ code: Int32) throws {
        guard code == SQLITE_OK else { throw error(code) }
    }

    private func error(_ code: Int32) -> DatabaseError {
        let message = sqlite3_db_handle(statement).flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
        return DatabaseError(
            resultCode: ResultCode(rawValue: code), message: message,
            sql: sqlite3_sql(statement).map { String(cString: $0) })
    }
}
