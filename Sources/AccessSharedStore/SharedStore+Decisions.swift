import AccessCore
import AccessProtocol
import PostgresNIO

extension SharedStore {
    static let reservationColumns =
        "id, space_id, holder, start_ms, end_ms, status, version, grace_before_s, grace_after_s, single_use, spent"

    static func reservations(_ rows: PostgresRowSequence) async throws -> [Reservation] {
        var result: [Reservation] = []
        for try await row in rows.decode(
            (String, String, String, Int64, Int64, String, Int64, Int64, Int64, Bool, Bool).self)
        {
            guard let status = ReservationStatus(rawValue: row.5) else { continue }
            result.append(
                Reservation(
                    id: row.0, spaceID: row.1, holder: row.2, startMs: row.3, endMs: row.4, status: status,
                    version: row.6, graceBeforeS: row.7, graceAfterS: row.8, singleUse: row.9, spent: row.10))
        }
        return result
    }

    /// What the rules need about a verified token (one snapshot of three key reads).
    public func tokenFacts(jti: String, reservationID: String) async throws -> TokenFacts {
        try await bounded("tokenFacts") {
            try await self.client.withTransaction(logger: self.logger) { connection in
                let logger = self.logger
                var facts = TokenFacts()
                for try await _ in try await connection.query(
                    "SELECT 1 FROM revoked_tokens WHERE jti = \(jti)", logger: logger)
                {
                    facts.jtiRevoked = true
                }
                facts.reservation = try await Self.reservations(
                    connection.query(
                        "SELECT \(unescaped: Self.reservationColumns) FROM reservations WHERE id = \(reservationID)",
                        logger: logger)
                ).first
                if facts.reservation == nil {
                    for try await _ in try await connection.query(
                        "SELECT 1 FROM reservation_tombstones WHERE id = \(reservationID)", logger: logger)
                    {
                        facts.reservationTombstoned = true
                    }
                }
                return facts
            }
        }
    }

    /// Reservations of a space whose PIN digest equals that of `pin` (the rules confirm each).
    public func pinCandidates(spaceID: String, pin: String) async throws -> [Reservation] {
        let digest = ByteBuffer(bytes: pinIndex.digest(pin: pin))
        return try await bounded("pinCandidates") {
            try await Self.reservations(
                self.client.query(
                    """
                    SELECT \(unescaped: Self.reservationColumns) FROM reservations
                    WHERE space_id = \(spaceID) AND pin_digest = \(digest) ORDER BY id
                    """, logger: self.logger))
        }
    }

    /// Spends a single-use reservation: true for exactly one caller, whichever gateway it runs on.
    /// One statement: the row lock makes a concurrent second `UPDATE` wait, re-read the row after
    /// the first commits, find `spent` and update nothing.
    public func spend(reservationID: String) async throws -> Bool {
        try await bounded("spend") {
            let rows = try await self.client.query(
                "UPDATE reservations SET spent = true WHERE id = \(reservationID) AND NOT spent RETURNING id",
                logger: self.logger)
            for try await _ in rows { return true }
            return false
        }
    }

    /// Gates and records one PIN (or card) outcome at a lock, counted across every gateway: the
    /// lock's row is taken `FOR UPDATE` for the transaction, so wrong PINs at different gateways
    /// are counted one after the other, never over each other. `evaluate` runs under that lock
    /// (it reads the candidates); it is not called while the lock is locked out.
    public func underLockout(
        lockID: String, nowMs: Int64, policy: AccessPolicy,
        evaluate: @escaping @Sendable () async throws -> AccessRules.Outcome
    ) async throws -> LockoutOutcome {
        try await bounded("underLockout") {
            try await self.client.withTransaction(logger: self.logger) { connection in
                let logger = self.logger
                try await connection.query(
                    "INSERT INTO pin_lockouts (lock_id) VALUES (\(lockID)) ON CONFLICT DO NOTHING", logger: logger)
                let rows = try await connection.query(
                    """
                    SELECT failure_times_ms, locked_until_ms, last_lockout_s, last_lockout_ended_ms
                    FROM pin_lockouts WHERE lock_id = \(lockID) FOR UPDATE
                    """, logger: logger)
                var lockout = PINLockout()
                for try await (times, until, lastS, endedMs) in rows.decode(([Int64], Int64?, Int64?, Int64?).self) {
                    lockout = PINLockout(
                        restoring: .init(
                            failureTimesMs: times, lockedUntilMs: until, lastLockoutS: lastS,
                            lastLockoutEndedMs: endedMs))
                }
                if case .lockedOut(let retryAfterS) = lockout.gate(nowMs: nowMs) {
                    try await Self.save(lockout, lockID: lockID, connection: connection, logger: logger)
                    return LockoutOutcome(
                        outcome: AccessRules.Outcome(.lockedOut), retryAfterS: retryAfterS, effect: .none)
                }
                let outcome = try await evaluate()
                let effect = lockout.record(outcome.reason, nowMs: nowMs, policy: policy)
                try await Self.save(lockout, lockID: lockID, connection: connection, logger: logger)
                return LockoutOutcome(outcome: outcome, retryAfterS: nil, effect: effect)
            }
        }
    }

    public struct LockoutOutcome: Sendable {
        public var outcome: AccessRules.Outcome
        public var retryAfterS: Int64?
        public var effect: PINLockout.Effect

        public var reason: DecisionReason { outcome.reason }
    }

    static func save(_ lockout: PINLockout, lockID: String, connection: PostgresConnection, logger: Logger) async throws
    {
        let state = lockout.snapshot
        try await connection.query(
            """
            UPDATE pin_lockouts SET failure_times_ms = \(state.failureTimesMs), locked_until_ms = \(state.lockedUntilMs),
                last_lockout_s = \(state.lastLockoutS), last_lockout_ended_ms = \(state.lastLockoutEndedMs)
            WHERE lock_id = \(lockID)
            """, logger: logger)
    }

    /// Accepts an operator request id once across every gateway (the primary key decides; a
    /// second insert, concurrent or later, inserts nothing).
    public func acceptOperatorRequest(_ requestID: String, gatewayID: String, nowMs: Int64) async throws -> Bool {
        try await bounded("acceptOperatorRequest") {
            let rows = try await self.client.query(
                """
                INSERT INTO operator_requests (request_id, gateway_id, accepted_at_ms)
                VALUES (\(requestID), \(gatewayID), \(nowMs)) ON CONFLICT DO NOTHING RETURNING request_id
                """, logger: self.logger)
            for try await _ in rows { return true }
            return false
        }
    }
}
