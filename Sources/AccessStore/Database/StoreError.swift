#if canImport(Glibc)
    import Glibc
#endif

/// Errors of the store that callers act on; SQLite's own errors pass through as GRDB's
/// `DatabaseError`, which names the SQLite result code and message.
public enum StoreError: Error, Hashable, CustomStringConvertible {
    /// A stored value breaks what the schema promises (edited by hand, or a newer schema).
    case corruptRow(table: String, key: String, problem: String)
    /// The store belongs to another site.
    case siteMismatch(stored: String, configured: String)
    /// The state directory held a store (its marker is there) but the file is gone: starting
    /// would silently forget every booking and the audit log. `--init` creates an empty one.
    case missing(path: String, marker: String)
    /// The file is not a sound SQLite database (`quick_check` failed, or not a database at all).
    case malformed(path: String, problem: String)
    /// The file the gateway opened was deleted or replaced under it: commits would go to a file
    /// no start will see again, so the store refuses them.
    case fileChanged(path: String, problem: String)
    case io(operation: String, errno: Int32)

    public var description: String {
        switch self {
        case .corruptRow(let table, let key, let problem): "\(table) row \(key): \(problem)"
        case .siteMismatch(let stored, let configured):
            "the database belongs to site \(stored), not to the configured site \(configured)"
        case .missing(let path, let marker):
            "the store \(path) is missing, but this state directory held one (\(marker) exists): restore it "
                + "from a backup, or start once with --init to create an empty store"
        case .malformed(let path, let problem):
            "the store \(path) is malformed (\(problem)): restore it from a backup, or move it aside and "
                + "start once with --init to create an empty store"
        case .fileChanged(let path, let problem): "the store file \(path) \(problem); refusing to commit"
        case .io(let operation, let code): "cannot \(operation): \(String(cString: strerror(code)))"
        }
    }
}
