import AccessCore
import AccessProtocol
import AccessStore
import PostgresNIO

/// What `accessctl` reads and changes in the shared database: the audit chains, cards and the
/// feed position. None of it is on a door's path.
extension SharedStore {
    /// Filters of an audit query; nil matches everything.
    public struct AuditFilter: Sendable {
        public var lockID: String?
        public var reservationID: String?
        public var holder: String?
        public var fromMs: Int64?
        public var toMs: Int64?
        public var granted: Bool?

        public init(
            lockID: String? = nil, reservationID: String? = nil, holder: String? = nil, fromMs: Int64? = nil,
            toMs: Int64? = nil, granted: Bool? = nil
        ) {
            self.lockID = lockID
            self.reservationID = reservationID
            self.holder = holder
            self.fromMs = fromMs
            self.toMs = toMs
            self.granted = granted
        }
    }

    static let auditColumns = """
        seq, ts, lock_id, request_id, credential_type, reservation_id, holder, jti, granted, reason,
        command_id, operator, note, count, event, hash
        """

    /// One row of `auditColumns` as the record it stores and the hash it was given.
    static func committedRecord(_ row: PostgresRow, gatewayID: String) throws -> (CommittedAuditRecord, String) {
        let cells = row.makeRandomAccess()
        let reasonText = try cells[9].decode(String.self)
        let record = AuditRecord(
            seq: try cells[0].decode(Int64.self), timestampMs: try cells[1].decode(Int64.self), gatewayID: gatewayID,
            lockID: try cells[2].decode(String.self), requestID: try cells[3].decode(String?.self),
            credentialType: try cells[4].decode(String?.self), reservationID: try cells[5].decode(String?.self),
            holder: try cells[6].decode(String?.self), jti: try cells[7].decode(String?.self),
            granted: try cells[8].decode(Bool.self), reason: DecisionReason(rawValue: reasonText) ?? .internalError,
            commandID: try cells[10].decode(String?.self), operatorName: try cells[11].decode(String?.self),
            note: try cells[12].decode(String?.self), count: try cells[13].decode(Int64?.self),
            event: try cells[14].decode(String?.self))
        let hash = try cells[15].decode(String.self)
        return (CommittedAuditRecord(record: record, hash: hash), reasonText)
    }

    /// `gatewayID`'s audit records after `afterSeq` matching `filter`, oldest first; with `newest`,
    /// the newest `limit` of them (still oldest first, as the SQLite store returns them).
    public func auditRecords(
        gatewayID: String, filter: AuditFilter = AuditFilter(), afterSeq: Int64 = 0, limit: Int = 1000,
        newest: Bool = false
    ) async throws -> [CommittedAuditRecord] {
        let f = filter
        let rows = try await client.query(
            """
            SELECT \(unescaped: Self.auditColumns) FROM audit_log
            WHERE gateway_id = \(gatewayID) AND seq > \(afterSeq)
                AND (\(f.lockID)::text IS NULL OR lock_id = \(f.lockID))
                AND (\(f.reservationID)::text IS NULL OR reservation_id = \(f.reservationID))
                AND (\(f.holder)::text IS NULL OR holder = \(f.holder))
                AND (\(f.fromMs)::bigint IS NULL OR ts >= \(f.fromMs))
                AND (\(f.toMs)::bigint IS NULL OR ts <= \(f.toMs))
                AND (\(f.granted)::boolean IS NULL OR granted = \(f.granted))
            ORDER BY seq \(unescaped: newest ? "DESC" : "ASC") LIMIT \(max(1, limit))
            """, logger: logger)
        var records: [CommittedAuditRecord] = []
        for try await row in rows { records.append(try Self.committedRecord(row, gatewayID: gatewayID).0) }
        return newest ? records.reversed() : records
    }

    /// Every gateway that has written to the audit log, with its head (seq and hash).
    public func auditHeads() async throws -> [(gatewayID: String, seq: Int64, hash: String)] {
        var heads: [(gatewayID: String, seq: Int64, hash: String)] = []
        for try await (gateway, seq, hash) in try await client.query(
            "SELECT gateway_id, seq, hash FROM audit_heads ORDER BY gateway_id", logger: logger
        ).decode((String, Int64, String).self) {
            heads.append((gateway, seq, hash))
        }
        return heads
    }

    /// Cards registered in the shared database (every gateway decides with these), by holder.
    public func cards(holder: String? = nil) async throws -> [AccessStore.HolderCard] {
        var cards: [AccessStore.HolderCard] = []
        for try await (digest, owner, label, addedMs) in try await client.query(
            """
            SELECT digest, holder, label, added_ms FROM holder_cards
            WHERE \(holder)::text IS NULL OR holder = \(holder) ORDER BY holder, added_ms
            """, logger: logger
        ).decode((ByteBuffer, String, String?, Int64).self) {
            cards.append(
                AccessStore.HolderCard(holder: owner, label: label, addedMs: addedMs, digest: Array(buffer: digest)))
        }
        return cards
    }

    /// Removes a card for every gateway; false when it was not registered.
    public func removeCard(digest: [UInt8]) async throws -> Bool {
        let key = ByteBuffer(bytes: digest)
        return try await bounded("removeCard") {
            var removed = false
            for try await _ in try await self.client.query(
                "DELETE FROM holder_cards WHERE digest = \(key) RETURNING holder", logger: self.logger
            ).decode(String.self) {
                removed = true
            }
            return removed
        }
    }

    /// Applies operator-supplied booking messages (`accessctl reservations import`, `cancel`,
    /// `revoke`) in one transaction, by the version rule, without a feed seq. Not bounded by the
    /// decisions' deadline: a batch of thousands takes longer, and no door waits on it.
    public func apply(_ messages: [BookingMessage], nowMs: Int64) async throws -> [BookingApplyOutcome] {
        let pinIndex = self.pinIndex
        return try await client.withTransaction(logger: logger) { connection in
            var outcomes: [BookingApplyOutcome] = []
            outcomes.reserveCapacity(messages.count)
            for message in messages {
                outcomes.append(
                    try await Self.apply(
                        message, nowMs: nowMs, pinIndex: pinIndex, connection: connection, logger: self.logger))
            }
            return outcomes
        }
    }

    /// A reservation as the shared database has it.
    public func reservation(id: String) async throws -> Reservation? {
        try await Self.reservations(
            client.query(
                "SELECT \(unescaped: Self.reservationColumns) FROM reservations WHERE id = \(id)", logger: logger)
        ).first
    }
}
