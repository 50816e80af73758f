import AccessCore
import AccessProtocol
import Dispatch
import GRDB
import Synchronization

/// The hash-chained audit log with group commit.
///
/// `append` returns only after the record is committed. Records that arrive while a commit is in
/// progress wait and go together in the next transaction, so under load many records share one
/// WAL sync instead of paying one each. Sequence numbers and hashes are assigned by the single
/// writer, in commit order, so the chain has no gaps even when a commit fails.
///
/// A caller that runs on threads of its own (`mayCommitInline`, the gateway's request workers)
/// commits its record itself when no commit is in progress: a lone decision then pays no hop to
/// the writer queue and back (two thread wake-ups, most of a lone decision's CPU on a small VM).
/// Whoever commits is the single writer while it does; records that arrive meanwhile go to the
/// writer queue as before. Callers on Swift's cooperative pool never do: a commit blocks its
/// thread for the WAL sync, and a slow disk would starve every other task on the pool.
public final class AuditLog: Sendable {
    /// A pending record and what else must commit with it.
    struct Entry: Sendable {
        var record: AuditRecord
        /// A single-use reservation this grant spends, in the same transaction.
        var spends: String?
        /// The token that opened the door, kept in `used_tokens`.
        var usedJTI: String?
        /// The lock's PIN lockout state after this decision, kept in `pin_lockouts`.
        var lockout: PINLockout.Snapshot?
        /// nil for the record its caller commits itself.
        var continuation: CheckedContinuation<CommittedAuditRecord, any Error>?
    }

    struct State: Sendable {
        var pending: [Entry] = []
        var writerScheduled = false
        var head: AuditHead
    }

    /// The newest committed record: what the gateway publishes as its audit head.
    public struct AuditHead: Sendable, Hashable {
        public var seq: Int64
        public var hash: String
        public var timestampMs: Int64

        public init(seq: Int64, hash: String, timestampMs: Int64) {
            self.seq = seq
            self.hash = hash
            self.timestampMs = timestampMs
        }
    }

    public static let maximumBatch = 1024

    /// Set by a caller whose task runs on threads of its own, where blocking for a commit starves
    /// nothing else (the request workers' `DecisionThreads`).
    @TaskLocal public static var mayCommitInline = false

    private let pool: DatabasePool
    private let store: AccessStore
    private let state: Mutex<State>
    private let writerQueue = DispatchQueue(label: "audit-writer", qos: .userInitiated)
    private let statistics = Mutex(Statistics())
    /// Told of each committed transaction: its records and how long the commit and its sync took.
    /// Boxed in a class: a bare closure in a `Mutex` is re-wrapped in a reabstraction thunk at
    /// every `inout` access, so each commit would have nested one more (memory and call depth
    /// growing without bound; measured: 100 MB and half the throughput in minutes).
    private let commitObserver = Mutex<CommitObserver?>(nil)

    final class CommitObserver: Sendable {
        let report: @Sendable (_ records: Int, _ nanoseconds: Int64) -> Void
        init(_ report: @escaping @Sendable (_ records: Int, _ nanoseconds: Int64) -> Void) { self.report = report }
    }

    /// Reports each committed transaction to `observer` (the gateway's commit-latency metric).
    public func observeCommits(_ observer: @escaping @Sendable (_ records: Int, _ nanoseconds: Int64) -> Void) {
        let boxed = CommitObserver(observer)
        commitObserver.withLock { $0 = boxed }
    }

    public struct Statistics: Sendable, Hashable {
        public var records: Int = 0
        public var transactions: Int = 0
        public var failedTransactions: Int = 0
        public var largestBatch: Int = 0
    }

    public init(store: AccessStore) throws {
        pool = store.pool
        self.store = store
        state = Mutex(State(head: try Self.loadHead(pool)))
    }

    public var head: AuditHead { state.withLock { $0.head } }
    public var statisticsSnapshot: Statistics { statistics.withLock { $0 } }

    /// Commits `record` (its `seq` is assigned here) and returns it with its hash.
    public func append(
        _ record: AuditRecord, spending reservationID: String? = nil, usedJTI: String? = nil,
        lockout: PINLockout.Snapshot? = nil
    ) async throws -> CommittedAuditRecord {
        // Nobody is writing: this caller becomes the writer for its own record.
        let inline = Self.mayCommitInline
        let head = state.withLock { state -> AuditHead? in
            guard inline, !state.writerScheduled else { return nil }
            state.writerScheduled = true
            return state.head
        }
        if let head {
            let entry = Entry(
                record: record, spends: reservationID, usedJTI: usedJTI, lockout: lockout, continuation: nil)
            let result = commit([entry], after: head)
            store.truncateWALIfOversized()
            // What arrived meanwhile is the writer queue's.
            let more = state.withLock { state in
                if state.pending.isEmpty { state.writerScheduled = false }
                return !state.pending.isEmpty
            }
            if more { writerQueue.async { self.drain() } }
            return try result.get()[0]
        }
        return try await withCheckedThrowingContinuation { continuation in
            let scheduleWriter = state.withLock { state in
                state.pending.append(
                    Entry(
                        record: record, spends: reservationID, usedJTI: usedJTI, lockout: lockout,
                        continuation: continuation))
                defer { state.writerScheduled = true }
                return !state.writerScheduled
            }
            if scheduleWriter { writerQueue.async { self.drain() } }
        }
    }

    /// Runs on the writer queue until nothing is pending.
    private func drain() {
        while true {
            let (batch, head) = state.withLock { state -> ([Entry], AuditHead) in
                if state.pending.isEmpty {
                    state.writerScheduled = false
                    return ([], state.head)
                }
                let count = min(state.pending.count, Self.maximumBatch)
                let batch = Array(state.pending.prefix(count))
                state.pending.removeFirst(count)
                return (batch, state.head)
            }
            guard !batch.isEmpty else { return }
            switch commit(batch, after: head) {
            case .success(let committed):
                for (entry, item) in zip(batch, committed) { entry.continuation?.resume(returning: item) }
            case .failure(let error):
                for entry in batch { entry.continuation?.resume(throwing: error) }
            }
            store.truncateWALIfOversized()
        }
    }

    /// Commits a batch after `head` in one transaction; only the single writer of the moment calls it.
    private func commit(_ batch: [Entry], after head: AuditHead) -> Result<[CommittedAuditRecord], any Error> {
        var committed: [CommittedAuditRecord] = []
        committed.reserveCapacity(batch.count)
        var previousHash = head.hash
        var seq = head.seq
        for entry in batch {
            seq += 1
            var record = entry.record
            record.seq = seq
            let hash = AuditChain.hash(previous: previousHash, canonical: record.canonical)
            committed.append(CommittedAuditRecord(record: record, hash: hash))
            previousHash = hash
        }
        let started = DispatchTime.now().uptimeNanoseconds
        do {
            // A grant committed to a file deleted or replaced under the store would be lost.
            try store.checkCommitsAllowed()
            try pool.write { db in
                // Bound through SQLite's C API (`RawStatement`): one record per decision.
                let insert = RawStatement(
                    try db.cachedStatement(
                        sql: """
                            INSERT INTO audit_log (seq, ts, gateway_id, lock_id, request_id, credential_type,
                                reservation_id, holder, jti, granted, reason, command_id, operator, note, hash, count,
                                event)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """))
                for (entry, item) in zip(batch, committed) {
                    let r = item.record
                    try insert.run([
                        .integer(r.seq), .integer(r.timestampMs), .text(r.gatewayID), .text(r.lockID),
                        .text(r.requestID), .text(r.credentialType), .text(r.reservationID), .text(r.holder),
                        .text(r.jti), .integer(r.granted ? 1 : 0), .text(r.reason.rawValue), .text(r.commandID),
                        .text(r.operatorName), .text(r.note), .text(item.hash), .integer(r.count), .text(r.event),
                    ])
                    if let reservationID = entry.spends {
                        try db.cachedStatement(sql: "UPDATE reservations SET spent = 1 WHERE id = ?")
                            .execute(arguments: [reservationID])
                    }
                    if let lockout = entry.lockout {
                        try AccessStore.savePINLockout(lockout, lockID: r.lockID, db: db)
                    }
                    if let jti = entry.usedJTI, let reservationID = r.reservationID {
                        try db.cachedStatement(
                            sql: """
                                INSERT OR IGNORE INTO used_tokens (jti, reservation_id, first_used_ms, audit_seq)
                                VALUES (?, ?, ?, ?)
                                """
                        ).execute(arguments: [jti, reservationID, r.timestampMs, r.seq])
                    }
                }
            }
        } catch {
            statistics.withLock { $0.failedTransactions += 1 }
            // The chain in memory may now be ahead of the file: read the head back before going on.
            let reloaded = try? Self.loadHead(pool)
            state.withLock { state in if let reloaded { state.head = reloaded } }
            return .failure(error)
        }
        if let last = committed.last {
            state.withLock { state in
                state.head = AuditHead(seq: last.seq, hash: last.hash, timestampMs: last.record.timestampMs)
            }
        }
        let elapsed = DispatchTime.now().uptimeNanoseconds &- started
        let observer = commitObserver.withLock { $0 }
        observer?.report(batch.count, Int64(clamping: elapsed))
        statistics.withLock { statistics in
            statistics.records += batch.count
            statistics.transactions += 1
            statistics.largestBatch = max(statistics.largestBatch, batch.count)
        }
        return .success(committed)
    }

    static func loadHead(_ pool: DatabasePool) throws -> AuditHead {
        try pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT seq, hash, ts FROM audit_log ORDER BY seq DESC LIMIT 1")
            else { return AuditHead(seq: 0, hash: AuditChain.genesisHash, timestampMs: 0) }
            return AuditHead(seq: row[0], hash: row[1], timestampMs: row[2])
        }
    }
}
