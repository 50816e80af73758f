import AccessProtocol

/// The per-lock admission state: the request budget and the PIN lockout.
public struct LockGuard: Sendable, Hashable {
    public var bucket: TokenBucket
    public var lockout = PINLockout()
    /// The lockout state last handed to the store with an audit record; nil when unknown (then
    /// the next PIN or card writes it). A state the store already holds is not written again, so
    /// a lock's right PINs add no row to their commit.
    public var storedLockout: PINLockout.Snapshot?

    public init(policy: AccessPolicy) {
        bucket = TokenBucket(ratePerS: policy.maxRequestsPerS)
    }

    /// Whether this state is the same as a new lock's at `nowMs`, so forgetting it changes nothing.
    public func isIdle(atMs nowMs: Int64, policy: AccessPolicy) -> Bool {
        bucket.isFull(atMs: nowMs) && lockout.isPristine(atMs: nowMs, policy: policy)
    }
}
