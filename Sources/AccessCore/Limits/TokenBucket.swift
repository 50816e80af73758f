import AccessProtocol

/// A per-lock token bucket: starts full with `capacity` requests and refills continuously at
/// `ratePerS`. A request that finds less than one token is refused (`rate_limited`).
public struct TokenBucket: Sendable, Hashable {
    public let capacity: Double
    public let ratePerS: Double
    /// The rate as configured, before clamping; tells a reload whether the bucket must change.
    public let configuredRatePerS: Double
    private var tokens: Double
    private var updatedMs: Int64?

    public init(ratePerS: Double) {
        self.capacity = max(1, ratePerS)
        self.ratePerS = max(0, ratePerS)
        self.configuredRatePerS = ratePerS
        self.tokens = self.capacity
    }

    /// Whether the bucket is full at `nowMs`, and so behaves exactly like a new one.
    public func isFull(atMs nowMs: Int64) -> Bool {
        guard let updatedMs else { return tokens >= capacity }
        guard nowMs >= updatedMs else { return false }
        return tokens + Double(nowMs - updatedMs) * ratePerS / 1000 >= capacity
    }

    /// Takes one token if there is one; a clock that steps back refills nothing.
    public mutating func admit(nowMs: Int64) -> Bool {
        if let updatedMs, nowMs > updatedMs {
            tokens = min(capacity, tokens + Double(nowMs - updatedMs) * ratePerS / 1000)
        }
        if updatedMs.map({ nowMs > $0 }) ?? true { updatedMs = nowMs }
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
