import AccessCore
import AccessProtocol
import Foundation
import GRDB
import Synchronization

/// The gateway's SQLite store (WAL): the site inventory, reservations and their tombstones,
/// revoked and used `jti`s, device state, and the hash-chained audit log.
///
/// Reads used per request go through prepared (cached) statements on indexed columns, so their
/// cost does not grow with the number of reservations.
public final class AccessStore: Sendable {
    public let pool: DatabasePool
    public let configuration: StoreConfiguration
    public let pinIndex: PINIndex
    /// The database's page size, for the size of a WAL frame (`maintainWAL`).
    let pageSize: Int
    /// Connections of their own for a decision's lookups (`LookupReaders`).
    let lookupReaders: LookupReaders
    /// The file, and which file it was when opened (see `probe`).
    public let file: StoreFile
    let openedIdentity: StoreFile.Identity?
    /// Set when the file was deleted or replaced under the store: every commit is refused.
    let refusal = Mutex<StoreError?>(nil)

    /// A WAL that has restarted keeps up to this much of its file (`journal_size_limit`), so
    /// commits overwrite blocks the file already has: their sync then need not also record a
    /// grown file's new size and blocks (commit syncs p50 194-201 µs instead of 252-270 µs,
    /// docs/store.md), and a commit on a full disk needs no new block. Past it `maintainWAL`
    /// restarts the WAL anyway.
    public static let walKeptBytes: UInt64 = 16 * 1024 * 1024
    /// The background checkpoint restarts the WAL once it holds this much and all of it was copied.
    public static let walRestartBytes: UInt64 = 4 * 1024 * 1024
    /// Past this the audit writer truncates the WAL itself between commits (overload).
    public static let walWriterCheckpointBytes: UInt64 = 40 * 1024 * 1024

    /// Opens (creating if needed) and migrates the store. When the PIN settings changed since the
    /// digests were made, they are rebuilt before the store is used.
    public init(configuration: StoreConfiguration, pinIndex: PINIndex) throws {
        self.configuration = configuration
        self.pinIndex = pinIndex
        let file = StoreFile(path: configuration.path)
        self.file = file
        let existed = file.exists
        if !existed, case .stateDirectory(let initialize) = configuration.creation, !initialize, file.markerExists {
            throw StoreError.missing(path: configuration.path, marker: file.markerPath)
        }
        var database = Configuration()
        database.busyMode = .timeout(configuration.busyTimeoutS)
        database.maximumReaderCount = max(1, configuration.maximumReaders)
        database.label = "access-store"
        let synchronous = configuration.synchronous.rawValue
        let autocheckpoint = configuration.backgroundCheckpoints ? 0 : 1000
        database.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(autocheckpoint)")
            try db.execute(sql: "PRAGMA journal_size_limit = \(Self.walKeptBytes)")
        }
        do {
            pool = try DatabasePool(path: configuration.path, configuration: database)
            // DatabasePool sets `synchronous = NORMAL` on its writer when it turns WAL on, after
            // `prepareDatabase` ran: with FULL asked for, a commit would not sync the WAL, and a
            // power cut could lose granted, already-executed audit records. Set it again on the
            // writer, where commits happen (`DurabilityTests` checks it).
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = \(synchronous)") }
            if existed {
                let problems = try pool.read { db in
                    try String.fetchAll(db, sql: "PRAGMA quick_check").filter { $0 != "ok" }
                }
                if !problems.isEmpty {
                    throw StoreError.malformed(
                        path: configuration.path, problem: "quick_check: " + problems.prefix(3).joined(separator: "; "))
                }
            }
            try StoreMigrations.migrator.migrate(pool)
            pageSize = try pool.read { db in try Int.fetchOne(db, sql: "PRAGMA page_size") } ?? 4096
        } catch let error as DatabaseError
            where error.resultCode == .SQLITE_NOTADB || error.resultCode == .SQLITE_CORRUPT
        {
            throw StoreError.malformed(path: configuration.path, problem: error.message ?? "\(error.resultCode)")
        }
        if case .stateDirectory = configuration.creation, !file.markerExists {
            try file.writeMarker(storeCreatedMs: Int64(Date().timeIntervalSince1970 * 1000))
        }
        openedIdentity = file.identity()
        lookupReaders = LookupReaders(
            path: configuration.path, busyTimeoutS: configuration.busyTimeoutS,
            limit: max(1, configuration.maximumReaders))
        if configuration.backgroundCheckpoints {
            var checkpointing = Configuration()
            checkpointing.label = "access-store-checkpoint"
            // A checkpoint that restarts the WAL holds the writer while it waits for readers:
            // never longer than this (`maintainWAL`).
            checkpointing.busyMode = .timeout(0.2)
            checkpointer = try DatabaseQueue(path: configuration.path, configuration: checkpointing)
        } else {
            checkpointer = nil
        }
        try rebuildPINIndexIfNeeded()
    }

    /// Its own connection, so that a checkpoint never waits in the writer's queue.
    private let checkpointer: DatabaseQueue?

    /// The dedicated checkpoint connection (or a temporary one when background checkpoints
    /// are off).
    func checkpointConnection() throws -> DatabaseQueue {
        try checkpointer ?? DatabaseQueue(path: configuration.path)
    }

    /// The site id the store was first used for; a store is never shared between sites.
    public func bindSite(_ siteID: String) throws {
        try pool.write { db in
            let stored = try String.fetchOne(db, sql: "SELECT value FROM store_meta WHERE key = 'site_id'")
            if let stored, stored != siteID { throw StoreError.siteMismatch(stored: stored, configured: siteID) }
            if stored == nil {
                try db.execute(sql: "INSERT INTO store_meta (key, value) VALUES ('site_id', ?)", arguments: [siteID])
            }
        }
    }

    /// `PRAGMA integrity_check`: the empty list when the file is sound.
    public func integrityProblems() throws -> [String] {
        try pool.read { db in
            try String.fetchAll(db, sql: "PRAGMA integrity_check").filter { $0 != "ok" }
        }
    }

    private func rebuildPINIndexIfNeeded() throws {
        let fingerprint = pinIndex.fingerprint
        let stored = try pool.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM store_meta WHERE key = 'pin_index'")
        }
        guard stored != fingerprint else { return }
        let pinIndex = self.pinIndex
        try pool.write { db in
            let rows = try Row.fetchCursor(
                db, sql: "SELECT id, space_id, start_ms, end_ms FROM reservations")
            var updates: [(String, [UInt8])] = []
            while let row = try rows.next() {
                let reservation = Reservation(
                    id: row[0], spaceID: row[1], holder: "", startMs: row[2], endMs: row[3])
                updates.append((reservation.id, pinIndex.digest(of: reservation)))
            }
            let update = try db.cachedStatement(sql: "UPDATE reservations SET pin_digest = ? WHERE id = ?")
            for (id, digest) in updates {
                try update.execute(arguments: [Data(digest), id])
            }
            try db.execute(
                sql:
                    "INSERT INTO store_meta (key, value) VALUES ('pin_index', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                arguments: [fingerprint])
        }
    }
}
