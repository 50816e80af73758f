import MQTTTesting
import Testing

@testable import MQTT

@Suite struct ReconnectBackoffTests {
    let backoff = ReconnectBackoff(
        initialDelay: .milliseconds(100), maximumDelay: .seconds(5), multiplier: 2, jitter: 0.5)

    @Test func ceilingDoublesUntilTheCap() {
        #expect(backoff.ceiling(forAttempt: 1) == .milliseconds(100))
        #expect(backoff.ceiling(forAttempt: 2) == .milliseconds(200))
        #expect(backoff.ceiling(forAttempt: 3) == .milliseconds(400))
        #expect(backoff.ceiling(forAttempt: 6) == .milliseconds(3200))
        #expect(backoff.ceiling(forAttempt: 7) == .seconds(5))
        #expect(backoff.ceiling(forAttempt: 1000) == .seconds(5))
    }

    @Test func jitterStaysWithinItsBandAndNeverExceedsTheCap() {
        var generator = SplitMix64(seed: 42)
        var seen = Set<Duration>()
        for attempt in 1...40 {
            let ceiling = backoff.ceiling(forAttempt: attempt)
            let delay = backoff.delay(forAttempt: attempt, using: &generator)
            #expect(delay <= ceiling)
            #expect(delay >= ceiling / 2)
            seen.insert(delay)
        }
        // Jitter actually varies the capped delays (attempts 7...40 share one ceiling).
        #expect(seen.count > 20)
    }

    @Test func noJitterGivesTheCeiling() {
        let exact = ReconnectBackoff(initialDelay: .milliseconds(100), maximumDelay: .seconds(1), jitter: 0)
        var generator = SplitMix64(seed: 1)
        #expect(exact.delay(forAttempt: 3, using: &generator) == .milliseconds(400))
    }
}
