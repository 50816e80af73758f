import AccessCore
import AccessProtocol
import AccessStore
import PostgresNIO

extension SharedStore {
    /// Appends records to `gatewayID`'s own hash chain in one transaction: the gateway's head row
    /// is locked `FOR UPDATE`, the records are hashed onto it and inserted, the head moves. The
    /// commit is durable (`synchronous_commit` on, the server's default) before this returns, so a
    /// grant is in the database before its command is published.
    public func append(_ records: [AuditRecord], gatewayID: String) async throws -> [CommittedAuditRecord] {
        try await bounded("append") {
            try await self.client.withTransaction(logger: self.logger) { connection in
                try await Self.append(records, gatewayID: gatewayID, connection: connection, logger: self.logger)
            }
        }
    }

    /// The append inside the caller's transaction.
    static func append(
        _ records: [AuditRecord], gatewayID: String, connection: PostgresConnection, logger: Logger
    ) async throws -> [CommittedAuditRecord] {
        try await connection.query(
            """
            INSERT INTO audit_heads (gateway_id, seq, hash) VALUES (\(gatewayID), 0, \(AuditChain.genesisHash))
            ON CONFLICT DO NOTHING
            """, logger: logger)
        var seq: Int64 = 0
        var previous = AuditChain.genesisHash
        for try await (headSeq, headHash) in try await connection.query(
            "SELECT seq, hash FROM audit_heads WHERE gateway_id = \(gatewayID) FOR UPDATE", logger: logger
        ).decode((Int64, String).self) {
            seq = headSeq
            previous = headHash
        }
        var committed: [CommittedAuditRecord] = []
        for var record in records {
            seq += 1
            record.seq = seq
            record.gatewayID = gatewayID
            let hash = AuditChain.hash(previous: previous, canonical: record.canonical)
            let r = record
            try await connection.query(
                """
                INSERT INTO audit_log (gateway_id, seq, ts, lock_id, request_id, credential_type, reservation_id,
                    holder, jti, granted, reason, command_id, operator, note, count, event, hash)
                VALUES (\(gatewayID), \(r.seq), \(r.timestampMs), \(r.lockID), \(r.requestID), \(r.credentialType),
                    \(r.reservationID), \(r.holder), \(r.jti), \(r.granted), \(r.reason.rawValue), \(r.commandID),
                    \(r.operatorName), \(r.note), \(r.count), \(r.event), \(hash))
                """, logger: logger)
            committed.append(CommittedAuditRecord(record: record, hash: hash))
            previous = hash
        }
        try await connection.query(
            "UPDATE audit_heads SET seq = \(seq), hash = \(previous) WHERE gateway_id = \(gatewayID)",
            logger: logger)
        return committed
    }

    /// Re-walks one gateway's chain up to its head row, read first (so records a running gateway
    /// appends meanwhile are left for the next walk); nil when intact, else the first seq that
    /// breaks it. Records cut from the end are caught by the head: the walk falls short of its
    /// seq, or ends on another hash.
    public func verifyChain(gatewayID: String) async throws -> (records: Int64, firstBreak: Int64?) {
        var head: (seq: Int64, hash: String) = (0, AuditChain.genesisHash)
        for try await (seq, hash) in try await client.query(
            "SELECT seq, hash FROM audit_heads WHERE gateway_id = \(gatewayID)", logger: logger
        ).decode((Int64, String).self) {
            head = (seq, hash)
        }
        let rows = try await client.query(
            """
            SELECT \(unescaped: Self.auditColumns) FROM audit_log
            WHERE gateway_id = \(gatewayID) AND seq <= \(head.seq) ORDER BY seq
            """, logger: logger)
        var previous = AuditChain.genesisHash
        var expected: Int64 = 1
        for try await row in rows {
            let (committed, reasonText) = try Self.committedRecord(row, gatewayID: gatewayID)
            guard committed.record.seq == expected, committed.record.reason.rawValue == reasonText,
                AuditChain.hash(previous: previous, canonical: committed.record.canonical) == committed.hash
            else { return (expected - 1, committed.record.seq) }
            previous = committed.hash
            expected += 1
        }
        if expected - 1 < head.seq { return (expected - 1, expected) }
        if previous != head.hash { return (expected - 1, head.seq) }
        return (expected - 1, nil)
    }
}
