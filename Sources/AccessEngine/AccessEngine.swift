import AccessCore
import AccessProtocol
import AccessStore
import Crypto
import Synchronization

/// The path from a lock's request to its unlock command, in the contract's order of checks:
/// identifier, configured lock, request budget, schema, then the credential rules, then the
/// audit commit, then the signed command. Every fault ends in a denial, never a grant.
///
/// Thread-safe: requests for different locks are decided in parallel; the PIN path of one lock
/// is serialized so its lockout count is exact.
public final class AccessEngine: Sendable {
    private let store: AccessStore
    private let auditLog: AuditLog
    private let configuration: Mutex<AccessEngineConfiguration>
    private let guards = Mutex<[String: LockGuardCell]>([:])
    /// Single-use reservations spent by this process; with the stored `spent` flag (read per
    /// request) this closes the window between a grant and its commit.
    private let spentReservations = Mutex<Set<String>>([])
    private let makeCommandID: @Sendable () -> String
    /// (v1.1) `rate_limited` and `busy` decisions, audited per lock and minute.
    private let refusals = Mutex(RefusalTally())
    /// Set when several gateways share one database (issue 19): facts, lockouts, spends and the
    /// audit record are decided there; the local store is then not read for decisions.
    private let shared: (any SharedDecisionStore)?

    public init(
        store: AccessStore, auditLog: AuditLog, configuration: AccessEngineConfiguration,
        makeCommandID: @escaping @Sendable () -> String = AccessEngine.randomCommandID,
        shared: (any SharedDecisionStore)? = nil
    ) {
        self.shared = shared
        self.store = store
        self.auditLog = auditLog
        self.configuration = Mutex(configuration)
        self.makeCommandID = makeCommandID
        // PIN lockouts survive a restart (each state was stored with its audit record); a store
        // that cannot be read leaves them at a new lock's, as before they were stored.
        if let stored = try? store.pinLockouts() {
            guards.withLock { cells in
                for (lockID, snapshot) in stored.states {
                    let cell = LockGuardCell(policy: configuration.policy)
                    cell.state.withLock {
                        $0.lockout = PINLockout(restoring: snapshot)
                        $0.storedLockout = snapshot
                    }
                    cells[lockID] = cell
                }
            }
        }
    }

    /// Replaces policy, inventory and keys; lockout and rate-limit state carry over (a changed
    /// rate takes effect at each lock's next request).
    public func reload(_ configuration: AccessEngineConfiguration) {
        self.configuration.withLock { $0 = configuration }
    }

    public var currentConfiguration: AccessEngineConfiguration { configuration.withLock { $0 } }

    /// `c-` and 16 random hex digits.
    public static func randomCommandID() -> String {
        Identifier.random(prefix: "c-")
    }

    /// Decides one request. `queuedMs` is how long it waited inside the gateway before this call
    /// (order of checks 4b: beyond `maxQueueMs` it is `busy`).
    public func handle(lockID: String, payload: [UInt8], nowMs: Int64, queuedMs: Int64 = 0) async -> AccessResult {
        await decide(lockID: lockID, nowMs: nowMs, queuedMs: queuedMs) { AccessRequest.parse(payload) }
    }

    /// Decides a request a device profile's reader made (a code or card read at the door,
    /// already translated from its dialect): the same checks, audit and lockout as a contract
    /// request, after the lock's request budget.
    public func handle(
        lockID: String, profileRequest: Result<AccessRequest, MalformedRequest>, nowMs: Int64, queuedMs: Int64 = 0
    ) async -> AccessResult {
        await decide(lockID: lockID, nowMs: nowMs, queuedMs: queuedMs) { profileRequest }
    }

    /// The order of checks; `parse` runs after the lock's request budget admitted the request.
    private func decide(
        lockID: String, nowMs: Int64, queuedMs: Int64, parse: () -> Result<AccessRequest, MalformedRequest>
    ) async -> AccessResult {
        guard Identifier.isValid(lockID) else { return .dropped }
        let configuration = self.configuration.withLock { $0 }
        var audit = AuditRecord(
            timestampMs: nowMs, gatewayID: configuration.gatewayID, lockID: lockID, granted: false,
            reason: .internalError)

        guard let lock = configuration.site.locks[lockID] else {
            return await finish(.unknownLock, audit: audit, configuration: configuration, nowMs: nowMs)
        }
        let cell = guardCell(for: lockID, policy: configuration.policy)
        let admitted = cell.state.withLock { guardState in
            if guardState.bucket.configuredRatePerS != configuration.policy.maxRequestsPerS {
                guardState.bucket = TokenBucket(ratePerS: configuration.policy.maxRequestsPerS)
            }
            return guardState.bucket.admit(nowMs: nowMs)
        }
        guard admitted else {
            return await finish(
                .rateLimited, audit: audit, configuration: configuration, nowMs: nowMs, spaceID: lock.spaceID)
        }

        let request: AccessRequest
        switch parse() {
        case .success(let parsed): request = parsed
        case .failure(let malformed):
            audit.requestID = malformed.requestID
            return await finish(
                .malformed, audit: audit, configuration: configuration, nowMs: nowMs, spaceID: lock.spaceID,
                detail: malformed.problem)
        }
        audit.requestID = request.requestID
        audit.credentialType = request.credential.typeName
        if let retryAfterS = Self.tooOld(request, queuedMs: queuedMs, nowMs: nowMs, policy: configuration.policy) {
            return await finish(
                .busy, audit: audit, configuration: configuration, nowMs: nowMs, spaceID: lock.spaceID,
                retryAfterS: retryAfterS)
        }

        if let shared {
            return await decideShared(
                request, lock: lock, shared: shared, configuration: configuration, nowMs: nowMs, audit: audit)
        }
        var evaluation: Evaluation
        switch request.credential {
        case .token(let token):
            evaluation = decideToken(token, lock: lock, configuration: configuration, nowMs: nowMs, audit: &audit)
        case .pin(let pin):
            evaluation = decidePIN(pin, lock: lock, cell: cell, configuration: configuration, nowMs: nowMs)
        case .card(let number):
            evaluation = decideCard(number, lock: lock, cell: cell, configuration: configuration, nowMs: nowMs)
        }
        if let reservation = evaluation.outcome.reservation {
            audit.reservationID = reservation.id
            audit.holder = reservation.holder
        }
        // A single-use reservation opens once, whatever credential presents it.
        var spends: String?
        if evaluation.outcome.reason == .granted, let reservation = evaluation.outcome.reservation,
            reservation.singleUse
        {
            if spentReservations.withLock({ $0.insert(reservation.id).inserted }) {
                spends = reservation.id
            } else {
                evaluation.outcome.reason = .alreadyUsed
            }
        }
        return await finish(
            evaluation.outcome.reason, audit: audit, configuration: configuration, nowMs: nowMs,
            spaceID: lock.spaceID, detail: evaluation.detail, spends: spends,
            usedJTI: evaluation.outcome.reason == .granted ? audit.jti : nil,
            retryAfterS: evaluation.retryAfterS, lockoutStartedS: evaluation.lockoutStartedS,
            lockout: evaluation.lockout)
    }

    /// An operator's remote unlock: audited with the operator and their note like any decision,
    /// then signed. `unknown_lock` for a lock that is not configured.
    public func operatorUnlock(_ unlock: OperatorUnlock, nowMs: Int64) async -> AccessDecided {
        let configuration = self.configuration.withLock { $0 }
        var audit = AuditRecord(
            timestampMs: nowMs, gatewayID: configuration.gatewayID, lockID: unlock.lockID, requestID: unlock.requestID,
            credentialType: "operator", granted: false, reason: .unknownLock, operatorName: unlock.operatorName,
            note: unlock.note)
        let lockKey = configuration.lockKey(unlock.lockID)
        if configuration.site.locks[unlock.lockID] != nil, lockKey != nil {
            audit.granted = true
            audit.reason = .granted
            audit.commandID = makeCommandID()
        }
        let spaceID = configuration.site.locks[unlock.lockID]?.spaceID
        let committed: CommittedAuditRecord
        do {
            committed = try await appendRecord(audit)
        } catch {
            return AccessDecided(
                decision: Decision(requestID: unlock.requestID, reason: .internalError, timestampMs: nowMs),
                command: nil,
                audit: nil, lockoutStartedS: nil, detail: "audit: \(error)", spaceID: spaceID)
        }
        var command: LockCommand?
        if committed.record.granted, let lockKey, let commandID = committed.record.commandID {
            command = LockCommand(
                siteID: configuration.site.id, lockID: unlock.lockID, commandID: commandID, requestID: unlock.requestID,
                unlockForS: configuration.policy.unlockForS, issuedAtMs: nowMs,
                ttlMs: configuration.policy.commandTTLMs,
                lockKey: lockKey)
        }
        let decision = Decision(
            requestID: unlock.requestID, reason: committed.record.reason, commandID: command?.commandID,
            timestampMs: nowMs)
        return AccessDecided(
            decision: decision, command: command, audit: committed, lockoutStartedS: nil, detail: nil, spaceID: spaceID)
    }

    struct Evaluation {
        var outcome: AccessRules.Outcome
        var detail: String?
        var retryAfterS: Int64?
        var lockoutStartedS: Int64?
        /// The lock's PIN lockout after this PIN, stored with its audit record.
        var lockout: PINLockout.Snapshot?
    }

    private func decideToken(
        _ token: String, lock: Lock, configuration: AccessEngineConfiguration, nowMs: Int64, audit: inout AuditRecord
    ) -> Evaluation {
        let claims: BookingTokenClaims
        switch configuration.verifier.verify(token) {
        case .success(let verified): claims = verified
        case .failure(let rejection):
            return Evaluation(outcome: AccessRules.Outcome(.invalidCredential), detail: "token: \(rejection)")
        }
        // Verified claims are safe to record: identifiers, never the token itself.
        audit.jti = claims.jti
        audit.reservationID = claims.reservationID
        audit.holder = claims.holder
        do {
            let facts = try store.tokenFacts(jti: claims.jti, reservationID: claims.reservationID)
            let outcome = AccessRules.evaluateToken(
                claims, lock: lock, facts: facts, nowMs: nowMs, policy: configuration.policy)
            return Evaluation(outcome: outcome)
        } catch {
            return Evaluation(outcome: AccessRules.Outcome(.internalError), detail: "store: \(error)")
        }
    }

    private func decidePIN(
        _ pin: String, lock: Lock, cell: LockGuardCell, configuration: AccessEngineConfiguration, nowMs: Int64
    ) -> Evaluation {
        underLockout(cell, configuration: configuration, nowMs: nowMs) {
            let candidates = try store.pinCandidates(spaceID: lock.spaceID, pin: pin)
            return AccessRules.evaluatePIN(
                pin, lock: lock, candidates: candidates, pins: configuration.pins, nowMs: nowMs)
        }
    }

    /// The same checks against the shared database: its facts, its lockout (counted across
    /// gateways), and the audit record committed there with the single-use spend in the same
    /// transaction (`already_used` when another gateway spent it first). A database that does not
    /// answer denies `internal_error`.
    private func decideShared(
        _ request: AccessRequest, lock: Lock, shared: any SharedDecisionStore, configuration: AccessEngineConfiguration,
        nowMs: Int64, audit: AuditRecord
    ) async -> AccessResult {
        var audit = audit
        var guarded: SharedGuardedOutcome
        do {
            switch request.credential {
            case .token(let token):
                let claims: BookingTokenClaims
                switch configuration.verifier.verify(token) {
                case .success(let verified): claims = verified
                case .failure(let rejection):
                    return await finish(
                        .invalidCredential, audit: audit, configuration: configuration, nowMs: nowMs,
                        spaceID: lock.spaceID, detail: "token: \(rejection)")
                }
                audit.jti = claims.jti
                audit.reservationID = claims.reservationID
                audit.holder = claims.holder
                let facts = try await shared.tokenFacts(jti: claims.jti, reservationID: claims.reservationID)
                guarded = SharedGuardedOutcome(
                    outcome: AccessRules.evaluateToken(
                        claims, lock: lock, facts: facts, nowMs: nowMs, policy: configuration.policy))
            case .pin(let pin):
                // The facts are read before the lockout's row lock is taken, on a connection of
                // their own: a read inside that transaction would lease a second connection while
                // holding the first, and under load every worker would wait on the pool (what the
                // first bench run showed: all requests past the 2 s deadline at 1,000/s).
                let pins = configuration.pins
                let candidates = try await shared.pinCandidates(spaceID: lock.spaceID, pin: pin)
                guarded = try await shared.guarded(lockID: lock.id, nowMs: nowMs, policy: configuration.policy) {
                    AccessRules.evaluatePIN(pin, lock: lock, candidates: candidates, pins: pins, nowMs: nowMs)
                }
            case .card(let number):
                let digest = CardIndex.normalized(number).map { configuration.cards.digest(card: $0) }
                var facts: (holder: String?, reservations: [Reservation])?
                if let digest { facts = try await shared.cardFacts(digest: digest, spaceID: lock.spaceID) }
                let read = facts
                guarded = try await shared.guarded(lockID: lock.id, nowMs: nowMs, policy: configuration.policy) {
                    guard let facts = read else { return AccessRules.Outcome(.invalidCredential) }
                    return AccessRules.evaluateCard(
                        holder: facts.holder, lock: lock, reservations: facts.reservations, nowMs: nowMs)
                }
            }
        } catch {
            return await finish(
                .internalError, audit: audit, configuration: configuration, nowMs: nowMs, spaceID: lock.spaceID,
                detail: "shared store: \(error)")
        }
        if let reservation = guarded.outcome.reservation {
            audit.reservationID = reservation.id
            audit.holder = reservation.holder
        }
        var detail: String?
        if guarded.outcome.reason == .granted, let reservation = guarded.outcome.reservation,
            let (refusal, why) = locallyRefused(reservation, jti: audit.jti)
        {
            guarded.outcome.reason = refusal
            detail = why
        }
        var spends: String?
        if guarded.outcome.reason == .granted, let reservation = guarded.outcome.reservation, reservation.singleUse {
            spends = reservation.id
        }
        return await finish(
            guarded.outcome.reason, audit: audit, configuration: configuration, nowMs: nowMs, spaceID: lock.spaceID,
            detail: detail, spends: spends, retryAfterS: guarded.retryAfterS,
            lockoutStartedS: guarded.lockoutStartedS)
    }

    /// A shared grant checked against this gateway's own store, which applies every booking
    /// message the moment it arrives, while its copy into the shared database may be a few
    /// messages behind: a cancel or revoke this gateway already holds must not be outrun by its
    /// mirror. A newer confirmed version (a moved booking) is not decided on the older one either.
    /// A local read that fails denies.
    private func locallyRefused(_ reservation: Reservation, jti: String?) -> (DecisionReason, String)? {
        let facts: TokenFacts
        do { facts = try store.tokenFacts(jti: jti ?? "", reservationID: reservation.id) } catch {
            return (.internalError, "local store: \(error)")
        }
        if jti != nil, facts.jtiRevoked { return (.revoked, "revoked here, not yet in the shared database") }
        if let local = facts.reservation {
            guard local.version > reservation.version else { return nil }
            return local.status == .confirmed
                ? (.internalError, "a newer version is not yet in the shared database")
                : (.cancelled, "cancelled here, not yet in the shared database")
        }
        return facts.reservationTombstoned ? (.cancelled, "cancelled here, not yet in the shared database") : nil
    }

    /// A card: its holder (by keyed digest) must hold a reservation of the lock's space now. An
    /// unknown card counts towards the lock's lockout like a wrong PIN (a reader can be fed
    /// numbers as fast as a keypad).
    private func decideCard(
        _ number: String, lock: Lock, cell: LockGuardCell, configuration: AccessEngineConfiguration, nowMs: Int64
    ) -> Evaluation {
        underLockout(cell, configuration: configuration, nowMs: nowMs) {
            guard let normalized = CardIndex.normalized(number) else { return AccessRules.Outcome(.invalidCredential) }
            let facts = try store.cardFacts(digest: configuration.cards.digest(card: normalized), spaceID: lock.spaceID)
            return AccessRules.evaluateCard(
                holder: facts.holder, lock: lock, reservations: facts.reservations, nowMs: nowMs)
        }
    }

    /// A guessable credential (PIN, card) under the lock's lockout: refused while it runs, else
    /// evaluated and counted, under the lock's own mutex so the count is exact.
    private func underLockout(
        _ cell: LockGuardCell, configuration: AccessEngineConfiguration, nowMs: Int64,
        evaluate: () throws -> AccessRules.Outcome
    ) -> Evaluation {
        cell.state.withLock { guardState in
            if case .lockedOut(let retryAfterS) = guardState.lockout.gate(nowMs: nowMs) {
                return Evaluation(outcome: AccessRules.Outcome(.lockedOut), retryAfterS: retryAfterS)
            }
            let outcome: AccessRules.Outcome
            do { outcome = try evaluate() } catch {
                return Evaluation(outcome: AccessRules.Outcome(.internalError), detail: "store: \(error)")
            }
            let effect = guardState.lockout.record(outcome.reason, nowMs: nowMs, policy: configuration.policy)
            let snapshot = guardState.lockout.snapshot
            // Written with the audit record only when the store does not hold it already (a
            // failed commit forgets what was stored, see `finish`).
            let lockout = guardState.storedLockout == snapshot ? nil : snapshot
            guardState.storedLockout = snapshot
            if case .lockoutStarted(let durationS, _) = effect {
                return Evaluation(outcome: outcome, lockoutStartedS: durationS, lockout: lockout)
            }
            return Evaluation(outcome: outcome, lockout: lockout)
        }
    }

    /// Audits a record that is not a lock's request (a PIN slot written or cleared, a keypad
    /// open the lock reported): in the same chain, committed before anything is published.
    public func appendEvent(_ record: AuditRecord) async throws -> CommittedAuditRecord {
        try await appendRecord(record)
    }

    /// Audits the decision, then signs the command for a grant. A failed audit turns any
    /// decision into `internal_error` with no command.
    private func finish(
        _ reason: DecisionReason, audit: AuditRecord, configuration: AccessEngineConfiguration, nowMs: Int64,
        spaceID: String? = nil, detail: String? = nil, spends: String? = nil, usedJTI: String? = nil,
        retryAfterS: Int64? = nil, lockoutStartedS: Int64? = nil, lockout: PINLockout.Snapshot? = nil
    ) async -> AccessResult {
        var audit = audit
        audit.reason = reason
        audit.granted = reason == .granted
        // `unknown_lock` and `rate_limited` are decided before parsing: no requestId.
        let requestID = reason == .unknownLock || reason == .rateLimited ? nil : audit.requestID
        audit.requestID = requestID
        if RefusalTally.reasons.contains(reason) {
            // Published at once; audited in the lock's per-minute record.
            let closed = refusals.withLock { $0.count(lockID: audit.lockID, reason: reason, nowMs: nowMs) }
            var failure: String?
            if let closed {
                failure = await appendTallies([closed], gatewayID: configuration.gatewayID)
            }
            let decision = Decision(
                requestID: requestID, reason: reason, retryAfterS: retryAfterS, timestampMs: nowMs)
            return .decided(
                AccessDecided(
                    decision: decision, command: nil, audit: nil, lockoutStartedS: nil,
                    detail: failure.map { "audit: \($0)" } ?? detail, spaceID: spaceID))
        }
        let lockKey = reason == .granted ? configuration.lockKey(audit.lockID) : nil
        if reason == .granted {
            if lockKey != nil {
                audit.commandID = makeCommandID()
            } else {
                // Cannot sign a command: fail secure.
                audit.granted = false
                audit.reason = .internalError
            }
        }
        let committed: CommittedAuditRecord
        do {
            if let shared {
                committed = try await shared.commit(audit, spending: spends)
            } else {
                committed = try await auditLog.append(audit, spending: spends, usedJTI: usedJTI, lockout: lockout)
            }
        } catch {
            if lockout != nil {
                // The lockout state was not stored: the lock's next PIN writes it again.
                guardCell(for: audit.lockID, policy: configuration.policy).state.withLock { $0.storedLockout = nil }
            }
            let decision = Decision(requestID: requestID, reason: .internalError, timestampMs: nowMs)
            return .decided(
                AccessDecided(
                    decision: decision, command: nil, audit: nil, lockoutStartedS: lockoutStartedS,
                    detail: "audit: \(error)", spaceID: spaceID))
        }
        var command: LockCommand?
        if committed.record.granted, let lockKey, let commandID = committed.record.commandID {
            command = LockCommand(
                siteID: configuration.site.id, lockID: audit.lockID, commandID: commandID, requestID: requestID,
                unlockForS: configuration.policy.unlockForS, issuedAtMs: nowMs,
                ttlMs: configuration.policy.commandTTLMs,
                lockKey: lockKey)
        }
        let decision = Decision(
            requestID: requestID, reason: committed.record.reason,
            reservationID: committed.record.granted ? committed.record.reservationID : nil,
            commandID: command?.commandID, retryAfterS: retryAfterS, timestampMs: nowMs)
        return .decided(
            AccessDecided(
                decision: decision, command: command, audit: committed, lockoutStartedS: lockoutStartedS,
                detail: detail, spaceID: spaceID))
    }

    /// Order of checks 4b: the `retryAfterS` of a request too old to act on, nil for one that is
    /// not. A door must never open long after the credential was shown.
    static func tooOld(_ request: AccessRequest, queuedMs: Int64, nowMs: Int64, policy: AccessPolicy) -> Int64? {
        if queuedMs > policy.maxQueueMs {
            // Back off about as long as the backlog made this request wait.
            return max(1, (queuedMs + 999) / 1000)
        }
        if let sentMs = request.timestampMs {
            let (age, overflow) = nowMs.subtractingReportingOverflow(sentMs)
            let (limit, limitOverflow) = policy.maxRequestAgeS.multipliedReportingOverflow(by: 1000)
            if !overflow, !limitOverflow, age > limit { return 1 }
        }
        return nil
    }

    /// Commits the per-minute `rate_limited` and `busy` records whose window has closed by
    /// `nowMs` (every open one when `all`, at shutdown). Returns the failure, if any, for the
    /// caller to log: a window whose record could not be committed is not retried (the store
    /// cannot commit then; its decisions were refusals).
    @discardableResult
    public func commitRefusalTallies(nowMs: Int64, all: Bool = false) async -> String? {
        let closed = refusals.withLock { all ? $0.closeAll() : $0.closeEnded(nowMs: nowMs) }
        guard !closed.isEmpty else { return nil }
        return await appendTallies(closed, gatewayID: configuration.withLock { $0.gatewayID })
    }

    /// Open per-minute refusal windows (for metrics and tests).
    public var openRefusalWindows: Int { refusals.withLock { $0.openCount } }

    /// A record that spends nothing: to the shared database's chain of this gateway, or the
    /// local audit log.
    private func appendRecord(_ record: AuditRecord) async throws -> CommittedAuditRecord {
        if let shared { return try await shared.commit(record, spending: nil) }
        return try await auditLog.append(record)
    }

    private func appendTallies(_ windows: [RefusalTally.Window], gatewayID: String) async -> String? {
        var failure: String?
        for window in windows {
            do {
                _ = try await appendRecord(window.auditRecord(gatewayID: gatewayID))
            } catch {
                failure = "\(error)"
            }
        }
        return failure
    }

    /// Forgets the admission state of locks whose state is the same as a new lock's (a full
    /// budget, no wrong PIN within the window, no lockout history that still counts), so that
    /// memory follows the locks in use rather than every lock ever seen. A cell that a request
    /// holds is never forgotten: references are only taken under the same lock, so a cell the
    /// dictionary holds alone is one no request is using. Returns how many were forgotten.
    @discardableResult
    public func forgetIdleAdmissionState(nowMs: Int64) -> Int {
        let policy = configuration.withLock { $0.policy }
        return guards.withLock { cells in
            var idle: [String] = []
            var index = cells.startIndex
            while index != cells.endIndex {
                if isKnownUniquelyReferenced(&cells.values[index]),
                    cells.values[index].state.withLock({ $0.isIdle(atMs: nowMs, policy: policy) })
                {
                    idle.append(cells.keys[index])
                }
                index = cells.index(after: index)
            }
            for lockID in idle { cells[lockID] = nil }
            cells.refitWhenMostlyEmpty()  // after a burst over 100k locks, 6 MB of empty buckets
            return idle.count
        }
    }

    /// Locks with admission state held (a budget or PIN lockout record).
    public var admissionStateCount: Int { guards.withLock { $0.count } }

    private func guardCell(for lockID: String, policy: AccessPolicy) -> LockGuardCell {
        guards.withLock { cells in
            if let cell = cells[lockID] { return cell }
            let cell = LockGuardCell(policy: policy)
            cells[lockID] = cell
            return cell
        }
    }
}

/// One lock's admission state behind its own lock, so locks do not contend with each other.
final class LockGuardCell: Sendable {
    let state: Mutex<LockGuard>

    init(policy: AccessPolicy) {
        state = Mutex(LockGuard(policy: policy))
    }
}
