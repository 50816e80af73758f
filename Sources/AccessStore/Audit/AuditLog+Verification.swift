import AccessCore
import AccessProtocol
import GRDB

extension AuditLog {
    /// The result of re-walking the chain.
    public struct Verification: Sendable, Hashable {
        /// Records that checked out before the first break (all of them when intact).
        public var verifiedRecords: Int64
        public var head: AuditHead?
        public var firstBreak: AuditChain.Break?

        public var isIntact: Bool { firstBreak == nil }
    }

    /// Re-walks the whole chain in `seq` order, recomputing every hash. An edited, deleted or
    /// reordered record breaks it; a chain cut short at the end is caught by comparing with the
    /// published head (`expectedHead`).
    public static func verify(_ pool: DatabasePool, expectedHead: AuditHead? = nil) throws -> Verification {
        try pool.read { db in
            var walker = AuditChain.Walker()
            var last: AuditHead?
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT seq, ts, gateway_id, lock_id, request_id, credential_type, reservation_id, holder, jti,
                        granted, reason, command_id, operator, note, hash, count, event
                    FROM audit_log ORDER BY seq
                    """)
            while let row = try rows.next() {
                let seq: Int64 = row[0]
                let reasonText: String = row[10]
                guard let reason = DecisionReason(rawValue: reasonText) else {
                    return Verification(
                        verifiedRecords: walker.nextSeq - 1, head: last, firstBreak: .hashMismatch(seq: seq))
                }
                let record = AuditRecord(
                    seq: seq, timestampMs: row[1], gatewayID: row[2], lockID: row[3], requestID: row[4],
                    credentialType: row[5], reservationID: row[6], holder: row[7], jti: row[8], granted: row[9],
                    reason: reason, commandID: row[11], operatorName: row[12], note: row[13], count: row[15],
                    event: row[16])
                let hash: String = row[14]
                if let broken = walker.check(record, storedHash: hash) {
                    return Verification(verifiedRecords: walker.nextSeq - 1, head: last, firstBreak: broken)
                }
                last = AuditHead(seq: seq, hash: hash, timestampMs: record.timestampMs)
            }
            if let expectedHead, expectedHead.seq > (last?.seq ?? 0) {
                let broken = AuditChain.Break.truncated(lastSeq: last?.seq ?? 0, publishedSeq: expectedHead.seq)
                return Verification(verifiedRecords: walker.nextSeq - 1, head: last, firstBreak: broken)
            }
            if let expectedHead, expectedHead.seq > 0 {
                let stored = try String.fetchOne(
                    db, sql: "SELECT hash FROM audit_log WHERE seq = ?", arguments: [expectedHead.seq])
                if stored != expectedHead.hash {
                    return Verification(
                        verifiedRecords: walker.nextSeq - 1, head: last,
                        firstBreak: .hashMismatch(seq: expectedHead.seq))
                }
            }
            return Verification(verifiedRecords: walker.nextSeq - 1, head: last, firstBreak: nil)
        }
    }
}
