import AccessProtocol

/// Wrong-PIN lockout of one lock (contract, "Lockout and rate limits"), a pure state machine.
///
/// The wrong PIN that brings the count within `failureWindowS` to `maxFailures` starts a lockout
/// of `lockoutS`; each further lockout doubles the previous one up to `maxLockoutS`; a granted PIN
/// resets the count and the duration; an hour after the last lockout ended the duration resets.
public struct PINLockout: Sendable, Hashable {
    /// What the gate says before a PIN is checked.
    public enum Gate: Sendable, Hashable {
        case open
        /// Locked out; retry after this many whole seconds (rounded up).
        case lockedOut(retryAfterS: Int64)
    }

    /// What recording an outcome did.
    public enum Effect: Sendable, Hashable {
        case none
        /// A lockout of this many seconds began (the `brute_force` alarm).
        case lockoutStarted(durationS: Int64, failures: Int)
    }

    private var failureTimesMs: [Int64] = []
    private var lockedUntilMs: Int64?
    private var lastLockoutS: Int64?
    private var lastLockoutEndedMs: Int64?

    public init() {}

    public var isLockedOut: Bool { lockedUntilMs != nil }
    public var failureCount: Int { failureTimesMs.count }

    /// Whether this record says nothing a new one would not at `nowMs`: no lockout set, no wrong
    /// PIN within the window, and no earlier lockout whose doubling could still apply.
    public func isPristine(atMs nowMs: Int64, policy: AccessPolicy) -> Bool {
        guard lockedUntilMs == nil else { return false }
        let windowStart = nowMs - policy.failureWindowS * 1000
        guard failureTimesMs.allSatisfy({ $0 <= windowStart }) else { return false }
        guard lastLockoutS != nil else { return true }
        return lastLockoutEndedMs.map { nowMs - $0 >= policy.lockoutResetAfterS * 1000 } ?? false
    }

    /// Checks the lockout; a lockout that has run out ends here, with the count back at 0.
    public mutating func gate(nowMs: Int64) -> Gate {
        guard let until = lockedUntilMs else { return .open }
        if nowMs < until {
            return .lockedOut(retryAfterS: (until - nowMs + 999) / 1000)
        }
        lockedUntilMs = nil
        lastLockoutEndedMs = until
        failureTimesMs.removeAll()
        return .open
    }

    /// Records the outcome of a PIN that passed the gate. Only `invalid_credential` is a wrong PIN.
    public mutating func record(_ reason: DecisionReason, nowMs: Int64, policy: AccessPolicy) -> Effect {
        switch reason {
        case .granted:
            failureTimesMs.removeAll()
            lastLockoutS = nil
            return .none
        case .invalidCredential:
            guard lockedUntilMs == nil else { return .none }
            let windowStart = nowMs - policy.failureWindowS * 1000
            failureTimesMs.removeAll { $0 <= windowStart }
            failureTimesMs.append(nowMs)
            guard failureTimesMs.count >= policy.maxFailures else { return .none }
            let failures = failureTimesMs.count
            var duration = policy.lockoutS
            if let previous = lastLockoutS {
                let rested = lastLockoutEndedMs.map { nowMs - $0 >= policy.lockoutResetAfterS * 1000 } ?? false
                duration = rested ? policy.lockoutS : min(previous * 2, max(policy.maxLockoutS, policy.lockoutS))
            }
            lastLockoutS = duration
            lockedUntilMs = nowMs + duration * 1000
            failureTimesMs.removeAll()
            return .lockoutStarted(durationS: duration, failures: failures)
        default:
            return .none
        }
    }

    /// Everything a lockout remembers, to be stored with the audit record of the PIN that changed
    /// it and restored at start: a restart must not give a brute-forcer a fresh count.
    public struct Snapshot: Sendable, Hashable {
        public var failureTimesMs: [Int64]
        public var lockedUntilMs: Int64?
        public var lastLockoutS: Int64?
        public var lastLockoutEndedMs: Int64?

        public init(
            failureTimesMs: [Int64], lockedUntilMs: Int64?, lastLockoutS: Int64?, lastLockoutEndedMs: Int64?
        ) {
            self.failureTimesMs = failureTimesMs
            self.lockedUntilMs = lockedUntilMs
            self.lastLockoutS = lastLockoutS
            self.lastLockoutEndedMs = lastLockoutEndedMs
        }
    }

    public var snapshot: Snapshot {
        Snapshot(
            failureTimesMs: failureTimesMs, lockedUntilMs: lockedUntilMs, lastLockoutS: lastLockoutS,
            lastLockoutEndedMs: lastLockoutEndedMs)
    }

    public init(restoring snapshot: Snapshot) {
        failureTimesMs = snapshot.failureTimesMs
        lockedUntilMs = snapshot.lockedUntilMs
        lastLockoutS = snapshot.lastLockoutS
        lastLockoutEndedMs = snapshot.lastLockoutEndedMs
    }
}
