import AccessProtocol

/// The site's policy numbers (contract defaults). Times are seconds unless the name says otherwise.
public struct AccessPolicy: Sendable, Hashable {
    /// Leeway on a token's `nbf` and `exp`.
    public var tokenLeewayS: Int64 = 60
    /// Keypad PIN length, 4 to 12.
    public var pinDigits: Int = 8
    /// Wrong PINs within this window count towards a lockout.
    public var failureWindowS: Int64 = 300
    /// The wrong PIN that brings the count to this number starts a lockout.
    public var maxFailures: Int = 5
    /// The first lockout; each further one doubles, up to `maxLockoutS`.
    public var lockoutS: Int64 = 60
    public var maxLockoutS: Int64 = 3600
    /// An hour after the last lockout ended, the next lockout starts again at `lockoutS`.
    public var lockoutResetAfterS: Int64 = 3600
    /// Token-bucket rate and burst per lock.
    public var maxRequestsPerS: Double = 10
    /// How long the latch stays open after an unlock.
    public var unlockForS: Int = 5
    /// A command's lifetime: `notAfter = issuedAt + commandTTLMs`.
    public var commandTTLMs: Int64 = 5000
    /// (v1.1) A request that waited longer than this inside the gateway before its decision
    /// began is answered `busy`: a door must never open long after the credential was shown.
    public var maxQueueMs: Int64 = 2000
    /// (v1.1) A request whose `ts` is further than this behind the gateway's clock is `busy`.
    public var maxRequestAgeS: Int64 = 30

    public init() {}
}
