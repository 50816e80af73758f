import AccessCore
import AccessProtocol
import AccessStore

/// What a store that several gateways share must give the engine (issue 19; PostgreSQL in
/// `AccessSharedStore`). With one, every fact a decision reads, the PIN lockout it counts, the
/// single-use spend and the audit record are the database's, never one gateway's memory.
public protocol SharedDecisionStore: Sendable {
    func tokenFacts(jti: String, reservationID: String) async throws -> TokenFacts
    func pinCandidates(spaceID: String, pin: String) async throws -> [Reservation]
    func cardFacts(digest: [UInt8], spaceID: String) async throws -> (holder: String?, reservations: [Reservation])
    /// Gates `lockID`'s lockout, runs `evaluate` while holding it, and counts the outcome: wrong
    /// guesses at every gateway count towards one lockout.
    func guarded(
        lockID: String, nowMs: Int64, policy: AccessPolicy,
        evaluate: @escaping @Sendable () async throws -> AccessRules.Outcome
    ) async throws -> SharedGuardedOutcome
    /// Commits `record` to this gateway's chain; with `spending`, spends that single-use
    /// reservation in the same transaction. When another gateway spent it first, the record is
    /// committed as `already_used`, not granted (the returned record says so).
    func commit(_ record: AuditRecord, spending reservationID: String?) async throws -> CommittedAuditRecord
}

public struct SharedGuardedOutcome: Sendable {
    public var outcome: AccessRules.Outcome
    public var retryAfterS: Int64?
    public var lockoutStartedS: Int64?

    public init(outcome: AccessRules.Outcome, retryAfterS: Int64? = nil, lockoutStartedS: Int64? = nil) {
        self.outcome = outcome
        self.retryAfterS = retryAfterS
        self.lockoutStartedS = lockoutStartedS
    }
}
