/// The per-lock admission state: the request budget and the PIN lockout.
public struct LockGuard: Sendable, Hashable {
    public var bucket: TokenBucket
    public var lockout = PINLockout()

    public init(policy: AccessPolicy) {
        bucket = TokenBucket(ratePerS: policy.maxRequestsPerS)
    }
}
