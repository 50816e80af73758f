/// Capped exponential backoff with jitter for reconnect attempts.
///
/// The delay before attempt n (n = 1 after the first failure) is
/// `min(maximum, initial * multiplier^(n-1))`, then scaled down by a random factor in
/// `[1 - jitter, 1]` so that many devices losing the same broker do not return in lockstep,
/// and the cap is never exceeded.
public struct ReconnectBackoff: Sendable, Hashable {
    public var initialDelay: Duration
    public var maximumDelay: Duration
    public var multiplier: Double
    /// Fraction of the delay that is randomised, 0 (none) to 1 (full jitter).
    public var jitter: Double

    public init(
        initialDelay: Duration = .milliseconds(200),
        maximumDelay: Duration = .seconds(30),
        multiplier: Double = 2,
        jitter: Double = 0.5
    ) {
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.multiplier = max(1, multiplier)
        self.jitter = min(1, max(0, jitter))
    }

    /// The delay before `attempt` without jitter (attempt counts from 1).
    public func ceiling(forAttempt attempt: Int) -> Duration {
        let initial = Self.seconds(initialDelay)
        let cap = Self.seconds(maximumDelay)
        let exponent = Double(max(0, attempt - 1))
        let raw = initial * _pow(multiplier, exponent)
        return .milliseconds(Int64((min(cap, raw) * 1000).rounded()))
    }

    /// The delay before `attempt`, jittered with `generator`.
    public func delay(forAttempt attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let ceiling = Self.seconds(ceiling(forAttempt: attempt))
        let factor = jitter == 0 ? 1 : Double.random(in: (1 - jitter)...1, using: &generator)
        return .milliseconds(Int64((ceiling * factor * 1000).rounded()))
    }

    static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }

    private func _pow(_ base: Double, _ exponent: Double) -> Double {
        // Repeated multiplication keeps Foundation out of this module; exponents stay small
        // because the result is capped long before.
        var result = 1.0
        var remaining = Int(exponent)
        while remaining > 0 && result < 1e12 {
            result *= base
            remaining -= 1
        }
        return result
    }
}
