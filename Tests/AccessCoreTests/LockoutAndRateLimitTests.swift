import AccessCore
import AccessProtocol
import Testing

@Suite struct LockoutAndRateLimitTests {
    let policy = AccessPolicy()

    /// Five wrong PINs within 300 s start a 60 s lockout; each further lockout doubles up to an
    /// hour; while locked out PINs are refused with the seconds left and not counted.
    @Test func theLockoutSequenceDoublesUpToAnHour() {
        var lockout = PINLockout()
        var now: Int64 = 1_000_000
        var durations: [Int64] = []
        for _ in 0..<8 {
            for attempt in 1...5 {
                #expect(lockout.gate(nowMs: now) == .open)
                let effect = lockout.record(.invalidCredential, nowMs: now, policy: policy)
                if attempt < 5 {
                    #expect(effect == PINLockout.Effect.none)
                } else if case .lockoutStarted(let duration, let failures) = effect {
                    durations.append(duration)
                    #expect(failures == 5)
                } else {
                    Issue.record("the fifth wrong PIN did not start a lockout")
                }
                now += 1000
            }
            let duration = durations.last ?? 0
            // One second into the lockout: refused, with the time left rounded up.
            #expect(lockout.gate(nowMs: now) == .lockedOut(retryAfterS: duration - 1))
            #expect(lockout.gate(nowMs: now + 1) == .lockedOut(retryAfterS: duration - 1))
            #expect(lockout.gate(nowMs: now - 1001 + duration * 1000) == .lockedOut(retryAfterS: 1))
            now += duration * 1000
            #expect(lockout.gate(nowMs: now) == .open)
            #expect(lockout.failureCount == 0)
        }
        #expect(durations == [60, 120, 240, 480, 960, 1920, 3600, 3600])
    }

    @Test func aGrantedPINResetsTheCountAndTheDuration() {
        var lockout = PINLockout()
        var now: Int64 = 0
        for _ in 0..<5 { _ = lockout.record(.invalidCredential, nowMs: now, policy: policy); now += 10 }
        now += 60_000
        #expect(lockout.gate(nowMs: now) == .open)
        for _ in 0..<4 { _ = lockout.record(.invalidCredential, nowMs: now, policy: policy); now += 10 }
        _ = lockout.record(.granted, nowMs: now, policy: policy)
        #expect(lockout.failureCount == 0)
        let effects = (0..<5).map { _ in lockout.record(.invalidCredential, nowMs: now, policy: policy) }
        #expect(effects == [.none, .none, .none, .none, .lockoutStarted(durationS: 60, failures: 5)])
    }

    @Test func anHourAfterTheLastLockoutEndedTheDurationResets() {
        var lockout = PINLockout()
        var now: Int64 = 0
        func fiveWrong() -> PINLockout.Effect {
            var last = PINLockout.Effect.none
            for _ in 0..<5 { last = lockout.record(.invalidCredential, nowMs: now, policy: policy) }
            return last
        }
        #expect(fiveWrong() == .lockoutStarted(durationS: 60, failures: 5))
        now += 60_000
        #expect(lockout.gate(nowMs: now) == .open)
        now += 3_599_000
        #expect(fiveWrong() == .lockoutStarted(durationS: 120, failures: 5))
        now += 120_000
        #expect(lockout.gate(nowMs: now) == .open)
        now += 3_600_000
        #expect(fiveWrong() == .lockoutStarted(durationS: 60, failures: 5))
    }

    @Test func wrongPINsOutsideTheWindowDoNotCountAndOtherReasonsNeverCount() {
        var lockout = PINLockout()
        for index in 0..<10 {
            // One wrong PIN every 75 s: never 5 within 300 s.
            let effect = lockout.record(.invalidCredential, nowMs: Int64(index) * 75_000, policy: policy)
            #expect(effect == .none)
        }
        var other = PINLockout()
        for reason in [DecisionReason.expired, .notYetValid, .cancelled, .alreadyUsed] {
            let effects = (0..<10).map { _ in other.record(reason, nowMs: 0, policy: policy) }
            #expect(effects.allSatisfy { $0 == .none })
        }
        #expect(other.failureCount == 0)
    }

    @Test func theTokenBucketStartsFullAndRefillsContinuously() {
        var bucket = TokenBucket(ratePerS: 10)
        let admitted = (0..<15).filter { _ in bucket.admit(nowMs: 0) }.count
        #expect(admitted == 10)
        let at99 = bucket.admit(nowMs: 99)
        let at100 = bucket.admit(nowMs: 100)
        let at150 = bucket.admit(nowMs: 150)
        #expect(!at99 && at100 && !at150)
        // A long pause refills to the burst, not beyond.
        let afterPause = (0..<15).filter { _ in bucket.admit(nowMs: 60_000) }.count
        #expect(afterPause == 10)
        // A clock stepping back neither refills nor breaks the bucket.
        let steppedBack = bucket.admit(nowMs: 0)
        #expect(!steppedBack)
    }
}
