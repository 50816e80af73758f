import Foundation
import GRDB

/// Keeping the store fit under load and faults: checkpoints that keep the WAL bounded, and a
/// probe that says honestly whether a commit can be made now.
extension AccessStore {
    /// SQLite's checkpoint modes that the gateway uses.
    public enum CheckpointMode: String, Sendable {
        /// Copies what it can without waiting for anybody; never restarts the WAL under load.
        case passive = "PASSIVE"
        /// Waits (up to the checkpoint connection's busy timeout) for the writer and readers and
        /// copies every frame, so the next commit writes the WAL from its start again (and trims
        /// the file to `journal_size_limit`); the writer waits meanwhile.
        case restart = "RESTART"
        /// A `RESTART` that also truncates the WAL to zero bytes.
        case truncate = "TRUNCATE"
    }

    public struct CheckpointReport: Sendable, Hashable {
        public var mode: CheckpointMode
        /// SQLite could not finish (a writer or reader held on past the busy timeout).
        public var busy: Bool
        public var walFrames: Int
        public var checkpointedFrames: Int
        /// The WAL file's size: with a kept WAL (`walKeptBytes`), more than `walFrames` fill.
        public var walBytesBefore: UInt64
        public var walBytesAfter: UInt64
    }

    /// One checkpoint in `mode`. Blocking I/O (it syncs the database file): call it from a
    /// thread of its own.
    @discardableResult
    public func checkpoint(_ mode: CheckpointMode) throws -> CheckpointReport {
        let before = file.walBytes()
        let row = try checkpointConnection().inDatabase { db in
            try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(\(mode.rawValue))")
        }
        return CheckpointReport(
            mode: mode, busy: (row?[0] ?? 0) != 0, walFrames: row?[1] ?? 0, checkpointedFrames: row?[2] ?? 0,
            walBytesBefore: before, walBytesAfter: file.walBytes())
    }

    /// The gateway's checkpoint, once a second. Under steady load a passive checkpoint never
    /// gets to restart the WAL (some reader always holds a snapshot in it), so the file would
    /// grow without bound. So a PASSIVE checkpoint first copies what it can and syncs the
    /// database file without blocking anybody; then, when it copied everything and the WAL holds
    /// more than `walRestartBytes`, or whenever the file is larger than `walKeptBytes`, a RESTART
    /// makes the next commit write the WAL from its start. That one holds the writer only while
    /// it copies what the passive one could not (usually nothing) and waits for the readers, at
    /// most the checkpoint connection's busy timeout (200 ms: a commit must not wait longer; a
    /// busy one is tried again a second later). The file is not truncated: the next commit trims
    /// it to `walKeptBytes` (`journal_size_limit`) and overwrites the blocks it keeps.
    @discardableResult
    public func maintainWAL() throws -> CheckpointReport {
        let passive = try checkpoint(.passive)
        let copiedEverything = !passive.busy && passive.walFrames == passive.checkpointedFrames
        let content = UInt64(max(0, passive.walFrames)) * UInt64(walFrameBytes)
        guard
            passive.walBytesAfter > Self.walKeptBytes
                || (copiedEverything && content > Self.walRestartBytes)
        else { return passive }
        var restarted = try checkpoint(.restart)
        restarted.walBytesBefore = passive.walBytesBefore
        return restarted
    }

    /// The size of one WAL frame: a page behind a 24-byte header.
    public var walFrameBytes: Int { pageSize + 24 }

    /// Called by the audit writer between its commits. Under overload the writer holds the lock
    /// almost without a break and the background RESTART (which must win it) keeps giving up,
    /// so past `walWriterCheckpointBytes` the writer itself truncates the WAL: it already holds
    /// the lock and waits only for the readers, a few milliseconds. Returns whether it did.
    @discardableResult
    public func truncateWALIfOversized() -> Bool {
        guard file.walBytes() > Self.walWriterCheckpointBytes else { return false }
        let row = try? pool.writeWithoutTransaction { db in
            try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
        return (row?[0] ?? 1) == 0
    }

    /// What the probe found; `problem` nil when the store can commit.
    public struct Health: Sendable, Hashable {
        public var problem: String?
        public var freeBytes: UInt64?
        public var walBytes: UInt64
        public var checkedAtMs: Int64

        public var isHealthy: Bool { problem == nil }
    }

    /// Whether a commit can be made now, as a commit would find out: the file the store opened
    /// is still the one at its path (not deleted, not replaced), the disk has at least
    /// `minimumFreeBytes` left, and a small write really commits and syncs. A deleted or
    /// replaced file makes the store refuse every later commit (fail-secure: an audit record
    /// written there would be lost at the next start). Blocking I/O: call it from a thread of
    /// its own, every few seconds, not per request.
    public func probe(minimumFreeBytes: UInt64, nowMs: Int64) -> Health {
        var health = Health(problem: nil, freeBytes: file.freeBytes(), walBytes: file.walBytes(), checkedAtMs: nowMs)
        if let refused = refusal.withLock({ $0 }) {
            health.problem = refused.description
            return health
        }
        let now = file.identity()
        if now != openedIdentity {
            let problem =
                now == nil
                ? "was deleted"
                : "was replaced (\(now.map { "\($0)" } ?? "?"), opened as \(openedIdentity.map { "\($0)" } ?? "?"))"
            let error = StoreError.fileChanged(path: file.path, problem: problem)
            refusal.withLock { $0 = error }
            health.problem = error.description
            return health
        }
        if let free = health.freeBytes, free < minimumFreeBytes {
            health.problem =
                "disk nearly full: \(free / 1_048_576) MB free at \(file.directory), "
                + "below the \(minimumFreeBytes / 1_048_576) MB the store keeps in reserve"
            return health
        }
        do {
            try pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO store_meta (key, value) VALUES ('health_probe', ?)
                        ON CONFLICT(key) DO UPDATE SET value = excluded.value
                        """,
                    arguments: [String(nowMs)])
            }
        } catch {
            health.problem = "store cannot commit: \(error)"
        }
        return health
    }

    /// Throws when the store refuses commits (its file was deleted or replaced under it).
    func checkCommitsAllowed() throws {
        if let refused = refusal.withLock({ $0 }) { throw refused }
    }
}
