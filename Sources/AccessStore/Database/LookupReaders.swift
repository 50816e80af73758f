import GRDB
import Synchronization

/// Read-only connections of their own for the lookups of a decision (a PIN's candidates, a
/// token's facts), each holding those lookups' prepared statements.
///
/// Why not the pool's readers: a `DatabasePool` read takes a connection through a concurrent
/// queue, a semaphore, a group and a lock, and builds a key path each time; `cachedStatement`
/// hashes the whole SQL text. At PIN saturation that was about 4 % of the gateway's CPU for one
/// indexed SELECT (docs/performance.md, fifth round). Here a lookup takes an idle connection
/// from a list under a mutex and runs its statement, already prepared, through `RawStatement`.
///
/// Bounded: at most `limit` connections; a lookup that finds none idle reads through the pool
/// instead, so a burst never waits here and never opens more files.
final class LookupReaders: Sendable {
    /// One connection and the statements prepared on it, used by one lookup at a time.
    final class Reader: @unchecked Sendable {
        // @unchecked: a reader is only touched by the lookup that took it from `idle`, and its
        // statements only inside its own queue.
        let queue: DatabaseQueue
        var statements: [Lookup: Statement] = [:]

        init(queue: DatabaseQueue) {
            self.queue = queue
        }

        /// The statement for `lookup`, prepared on first use.
        func statement(_ lookup: Lookup, _ db: Database) throws -> Statement {
            if let statement = statements[lookup] { return statement }
            let statement = try db.makeStatement(sql: lookup.sql)
            statements[lookup] = statement
            return statement
        }
    }

    private let idle = Mutex<(readers: [Reader], opened: Int)>(([], 0))
    private let path: String
    private let configuration: Configuration
    let limit: Int

    init(path: String, busyTimeoutS: Double, limit: Int) {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(busyTimeoutS)
        configuration.label = "access-store-lookup"
        // A small page cache: every commit by the writer empties a reader's cache, and 64 pages
        // hold the ten or so lookups a connection makes between two commits. SQLite's default
        // (2 MB per connection) measured about 5 µs of CPU per decision better, inside the
        // noise (docs/performance.md, fifth round): kept small for the memory.
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA cache_size = -256") }
        self.configuration = configuration
        self.path = path
        self.limit = max(1, limit)
    }

    /// Runs `body` on an idle connection (opening one while under `limit`); nil when every one
    /// is busy or none could be opened, for the caller to read through the pool.
    func read<T>(_ body: (Reader, Database) throws -> T) throws -> T? {
        guard let reader = take() else { return nil }
        defer { idle.withLock { $0.readers.append(reader) } }
        return try reader.queue.inDatabase { db in try body(reader, db) }
    }

    /// Connections opened so far (at most `limit`).
    var openedCount: Int { idle.withLock { $0.opened } }

    private func take() -> Reader? {
        let taken = idle.withLock { state -> (reader: Reader?, open: Bool) in
            if let reader = state.readers.popLast() { return (reader, false) }
            guard state.opened < limit else { return (nil, false) }
            state.opened += 1
            return (nil, true)
        }
        if let reader = taken.reader { return reader }
        guard taken.open else { return nil }
        do {
            return Reader(queue: try DatabaseQueue(path: path, configuration: configuration))
        } catch {
            idle.withLock { $0.opened -= 1 }
            return nil
        }
    }

    /// The lookups prepared on each connection.
    enum Lookup: Hashable, Sendable {
        case pinCandidates
        case tokenFacts

        var sql: String {
            switch self {
            case .pinCandidates: AccessStore.pinCandidatesSQL
            case .tokenFacts: AccessStore.tokenFactsSQL
            }
        }
    }
}
