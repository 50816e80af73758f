import AccessCore
import AccessProtocol
import AccessStore
import AccessTesting
import MQTTTesting
import Synchronization
import Testing

/// The audit chain: group commit under concurrency, tamper detection with the sqlite3 shell, and
/// the canonical form and hashes recomputed by an independent implementation (Python).
@Suite struct AuditLogTests {
    func fill(_ store: TemporaryStore, count: Int) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<count {
                group.addTask {
                    let record = AuditRecord(
                        timestampMs: 1_000 + Int64(index), gatewayID: "gw-1", lockID: "lock-\(index % 3 + 1)",
                        requestID: "r-\(index)", credentialType: index % 2 == 0 ? "pin" : "token",
                        granted: index % 5 == 0,
                        reason: index % 5 == 0 ? .granted : .invalidCredential,
                        note: index == 7 ? "operator note with \"quotes\", a tab\t, ünïcode and \u{1}" : nil)
                    _ = try await store.auditLog.append(record)
                }
            }
            try await group.waitForAll()
        }
    }

    @Test func concurrentAppendsAreGroupCommittedWithoutGaps() async throws {
        let store = try TemporaryStore()
        try await fill(store, count: 400)
        let statistics = store.auditLog.statisticsSnapshot
        #expect(statistics.records == 400)
        #expect(statistics.transactions < 400, "group commit put several records in one transaction")
        let verification = try AuditLog.verify(store.store.pool, expectedHead: store.auditLog.head)
        #expect(verification.isIntact && verification.verifiedRecords == 400)
        #expect(store.auditLog.head.seq == 400)
    }

    /// Callers that may commit their own record (the gateway's decision threads) and callers
    /// that queue for the writer, all at once: one writer at a time, one chain, no gap.
    @Test func inlineAndQueuedCommitsInterleaveIntoOneChain() async throws {
        let store = try TemporaryStore()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask {
                    let record = AuditRecord(
                        timestampMs: 1_000 + Int64(index), gatewayID: "gw-1", lockID: "lock-\(index % 3 + 1)",
                        requestID: "r-\(index)", granted: false, reason: .invalidCredential)
                    if index % 2 == 0 {
                        _ = try await AuditLog.$mayCommitInline.withValue(true) {
                            try await store.auditLog.append(record)
                        }
                    } else {
                        _ = try await store.auditLog.append(record)
                    }
                }
            }
            try await group.waitForAll()
        }
        let statistics = store.auditLog.statisticsSnapshot
        #expect(statistics.records == 200)
        #expect(statistics.transactions < 200, "queued records still shared commits")
        let verification = try AuditLog.verify(store.store.pool, expectedHead: store.auditLog.head)
        #expect(verification.isIntact && verification.verifiedRecords == 200)
        let requestIDs = try store.store.auditRecords(lockID: nil).compactMap(\.record.requestID)
        #expect(Set(requestIDs).count == 200)
    }

    @Test func theCommitObserverHearsEveryTransactionAndItsRecords() async throws {
        let store = try TemporaryStore()
        let heard = Mutex((transactions: 0, records: 0, slowest: Int64(0)))
        store.auditLog.observeCommits { records, nanoseconds in
            heard.withLock {
                $0.transactions += 1
                $0.records += records
                $0.slowest = max($0.slowest, nanoseconds)
            }
        }
        try await fill(store, count: 300)
        let statistics = store.auditLog.statisticsSnapshot
        let seen = heard.withLock { $0 }
        #expect(seen.records == 300)
        #expect(seen.transactions == statistics.transactions)
        #expect(seen.slowest > 0)
    }

    func sqlite(_ path: String, _ sql: String) throws {
        try ExternalTool.run("sqlite3", [path, sql])
    }

    @Test func anEditedRecordIsDetected() async throws {
        let store = try TemporaryStore()
        try await fill(store, count: 20)
        // Records commit in whatever order their tasks ran, so seq 12 may already be a grant:
        // flip it, so the edit always changes the record.
        try sqlite(
            store.path,
            """
            UPDATE audit_log SET granted = 1 - granted,
                reason = CASE granted WHEN 1 THEN 'invalid_credential' ELSE 'granted' END WHERE seq = 12
            """)
        #expect(try AuditLog.verify(store.store.pool).firstBreak == .hashMismatch(seq: 12))
    }

    @Test func aDeletedRecordIsDetected() async throws {
        let store = try TemporaryStore()
        try await fill(store, count: 20)
        try sqlite(store.path, "DELETE FROM audit_log WHERE seq = 5")
        #expect(try AuditLog.verify(store.store.pool).firstBreak == .sequenceGap(expected: 5, found: 6))
    }

    @Test func reorderedRecordsAreDetected() async throws {
        let store = try TemporaryStore()
        try await fill(store, count: 20)
        // Swap records 8 and 9, renumbering them so the sequence itself has no gap.
        try sqlite(
            store.path,
            "UPDATE audit_log SET seq = seq + 1000 WHERE seq IN (8, 9); UPDATE audit_log SET seq = CASE seq WHEN 1008 THEN 9 ELSE 8 END WHERE seq > 1000;"
        )
        #expect(try AuditLog.verify(store.store.pool).firstBreak == .hashMismatch(seq: 8))
    }

    @Test func aChainCutShortIsDetectedAgainstThePublishedHead() async throws {
        let store = try TemporaryStore()
        try await fill(store, count: 20)
        let head = store.auditLog.head
        try sqlite(store.path, "DELETE FROM audit_log WHERE seq > 17")
        #expect(try AuditLog.verify(store.store.pool).isIntact)
        #expect(
            try AuditLog.verify(store.store.pool, expectedHead: head).firstBreak
                == .truncated(lastSeq: 17, publishedSeq: 20))
    }

    /// Python re-derives canonical(record) with json.dumps(sort_keys, no whitespace, no ASCII
    /// escaping) and re-walks the chain from the rows alone.
    @Test func anIndependentImplementationAgreesOnEveryHash() async throws {
        let store = try TemporaryStore()
        try await fill(store, count: 30)
        let script = """
            import hashlib, json, sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            names = ["seq", "ts", "gatewayId", "lockId", "requestId", "credentialType", "reservationId", "holder",
                     "jti", "granted", "reason", "commandId", "operator", "note"]
            prev = "0" * 64
            for row in db.execute("SELECT seq, ts, gateway_id, lock_id, request_id, credential_type, reservation_id, "
                                  "holder, jti, granted, reason, command_id, operator, note, hash FROM audit_log ORDER BY seq"):
                record = {k: v for k, v in zip(names, row[:-1]) if v is not None}
                record["granted"] = bool(record["granted"])
                canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                digest = hashlib.sha256((prev + canonical).encode()).hexdigest()
                assert digest == row[-1], (row[0], canonical)
                prev = digest
            print("ok", prev)
            """
        let result = try await ExternalTool.captureDetached("python3", ["-c", script, store.path])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput == "ok \(store.auditLog.head.hash)\n")
    }
}
