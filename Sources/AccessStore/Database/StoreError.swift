/// Errors of the store that callers act on; SQLite's own errors pass through as GRDB's
/// `DatabaseError`, which names the SQLite result code and message.
public enum StoreError: Error, Hashable, CustomStringConvertible {
    /// A stored value breaks what the schema promises (edited by hand, or a newer schema).
    case corruptRow(table: String, key: String, problem: String)
    /// The store belongs to another site.
    case siteMismatch(stored: String, configured: String)

    public var description: String {
        switch self {
        case .corruptRow(let table, let key, let problem): "\(table) row \(key): \(problem)"
        case .siteMismatch(let stored, let configured):
            "the database belongs to site \(stored), not to the configured site \(configured)"
        }
    }
}
