import AccessProtocol

/// The per-lock admission state: the request budget and the PIN lockout.
public struct LockGuard: Sendable, Hashable {
    public var bucket: TokenBucket
    public var lockout = PINLockout()

    public init(policy: AccessPolicy) {
        bucket = TokenBucket(ratePerS: policy.maxRequestsPerS)
    }

    /// Whether this state is the same as a new lock's at `nowMs`, so forgetting it changes nothing.
    public func isIdle(atMs nowMs: Int64, policy: AccessPolicy) -> Bool {
        bucket.isFull(atMs: nowMs) && lockout.isPristine(atMs: nowMs, policy: policy)
    }
}
