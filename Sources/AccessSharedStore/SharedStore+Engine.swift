import AccessCore
import AccessEngine
import AccessProtocol
import AccessStore
import PostgresNIO

/// The engine's view of the shared store: what a decision reads, the lockout it counts, and the
/// record it commits, for this gateway (`gatewayID` names its own hash chain).
public struct SharedDecisions: SharedDecisionStore {
    public let store: SharedStore
    public let gatewayID: String
    /// Why decisions must not read the database now (not migrated yet, bookings not mirrored
    /// into it): every decision is then denied `internal_error`.
    let blocked: @Sendable () -> String?

    public init(store: SharedStore, gatewayID: String, blocked: @escaping @Sendable () -> String? = { nil }) {
        self.store = store
        self.gatewayID = gatewayID
        self.blocked = blocked
    }

    func checkOpen() throws {
        if let reason = blocked() { throw SharedStoreError.blocked(reason) }
    }

    public func tokenFacts(jti: String, reservationID: String) async throws -> TokenFacts {
        try checkOpen()
        return try await store.tokenFacts(jti: jti, reservationID: reservationID)
    }

    public func pinCandidates(spaceID: String, pin: String) async throws -> [Reservation] {
        try await store.pinCandidates(spaceID: spaceID, pin: pin)
    }

    public func cardFacts(digest: [UInt8], spaceID: String) async throws -> (
        holder: String?, reservations: [Reservation]
    ) {
        try await store.cardFacts(digest: digest, spaceID: spaceID)
    }

    public func guarded(
        lockID: String, nowMs: Int64, policy: AccessPolicy,
        evaluate: @escaping @Sendable () async throws -> AccessRules.Outcome
    ) async throws -> SharedGuardedOutcome {
        try checkOpen()
        let result = try await store.underLockout(lockID: lockID, nowMs: nowMs, policy: policy, evaluate: evaluate)
        var started: Int64?
        if case .lockoutStarted(let durationS, _) = result.effect { started = durationS }
        return SharedGuardedOutcome(outcome: result.outcome, retryAfterS: result.retryAfterS, lockoutStartedS: started)
    }

    public func commit(_ record: AuditRecord, spending reservationID: String?) async throws -> CommittedAuditRecord {
        if reservationID != nil || record.granted { try checkOpen() }
        return try await store.commit(record, gatewayID: gatewayID, spending: reservationID)
    }
}

extension SharedStore {
    /// One record, with the single-use spend in the same transaction: the `UPDATE … WHERE NOT
    /// spent` takes the row lock, so of gateways granting the same reservation at once exactly one
    /// finds it unspent; the others commit `already_used` (not granted, no command).
    public func commit(_ record: AuditRecord, gatewayID: String, spending reservationID: String?) async throws
        -> CommittedAuditRecord
    {
        try await bounded("commit") {
            try await self.client.withTransaction(logger: self.logger) { connection in
                var record = record
                if let reservationID {
                    var spent = false
                    for try await _ in try await connection.query(
                        "UPDATE reservations SET spent = true WHERE id = \(reservationID) AND NOT spent RETURNING id",
                        logger: self.logger)
                    {
                        spent = true
                    }
                    if !spent {
                        record.granted = false
                        record.reason = .alreadyUsed
                        record.commandID = nil
                    }
                }
                let committed = try await Self.append(
                    [record], gatewayID: gatewayID, connection: connection, logger: self.logger)
                guard let first = committed.first else {
                    throw SharedStoreError.unavailable(operation: "commit", afterMs: 0)
                }
                return first
            }
        }
    }

    /// The holder a card is registered to and their reservations of `spaceID`.
    public func cardFacts(digest: [UInt8], spaceID: String) async throws -> (
        holder: String?, reservations: [Reservation]
    ) {
        let key = ByteBuffer(bytes: digest)
        return try await bounded("cardFacts") {
            var holder: String?
            for try await value in try await self.client.query(
                "SELECT holder FROM holder_cards WHERE digest = \(key)", logger: self.logger
            ).decode(String.self) {
                holder = value
            }
            guard let holder else { return (nil, []) }
            let reservations = try await Self.reservations(
                self.client.query(
                    """
                    SELECT \(unescaped: Self.reservationColumns) FROM reservations
                    WHERE holder = \(holder) AND space_id = \(spaceID) ORDER BY start_ms LIMIT 1000
                    """, logger: self.logger))
            return (holder, reservations)
        }
    }

    /// Registers a card (by keyed digest) to a holder, for every gateway.
    public func addCard(digest: [UInt8], holder: String, label: String?, nowMs: Int64) async throws {
        let key = ByteBuffer(bytes: digest)
        try await bounded("addCard") {
            _ = try await self.client.query(
                """
                INSERT INTO holder_cards (digest, holder, label, added_ms) VALUES (\(key), \(holder), \(label), \(nowMs))
                ON CONFLICT (digest) DO UPDATE SET holder = excluded.holder, label = excluded.label, added_ms = excluded.added_ms
                """, logger: self.logger)
        }
    }
}
