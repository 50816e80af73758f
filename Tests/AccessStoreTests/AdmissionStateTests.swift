import AccessCore
import AccessEngine
import AccessProtocol
import AccessStore
import AccessTesting
import Foundation
import Synchronization
import Testing

/// The engine forgets a lock's admission state only when it is the same as a new lock's, so the
/// sweep that bounds memory can never shorten a lockout or refill a budget early.
@Suite struct AdmissionStateTests {
    static let startMs = AccessEngineTests.startMs

    func decide(_ store: TemporaryStore, lockID: String = "lock-1", pin: String, at nowMs: Int64) async
        -> AccessDecided?
    {
        let payload = TestSite.requestPayload(requestID: "r-\(nowMs)", credential: .pin(pin))
        guard case .decided(let decided) = await store.engine.handle(lockID: lockID, payload: payload, nowMs: nowMs)
        else { return nil }
        return decided
    }

    @Test func wrongPINsWithinTheWindowSurviveTheSweepAndStillStartTheLockout() async throws {
        let store = try TemporaryStore()
        try store.insert([AccessEngineTests.booking])
        let wrong = "00000000"
        for attempt in 1...4 {
            #expect(
                await decide(store, pin: wrong, at: Self.startMs + Int64(attempt))?.decision.reason
                    == .invalidCredential)
        }
        // Swept with every budget long refilled: lock-1's four failures are within the window.
        #expect(store.engine.forgetIdleAdmissionState(nowMs: Self.startMs + 60_000) == 0)
        #expect(store.engine.admissionStateCount == 1)
        let fifth = await decide(store, pin: wrong, at: Self.startMs + 60_001)
        #expect(fifth?.lockoutStartedS == 60, "the fifth wrong PIN after a sweep must still start the lockout")
        // Locked out: not forgotten either, and the right PIN is refused until it ends.
        #expect(store.engine.forgetIdleAdmissionState(nowMs: Self.startMs + 61_000) == 0)
        let right = store.testSite.pin(of: AccessEngineTests.booking)
        #expect(await decide(store, pin: right, at: Self.startMs + 61_000)?.decision.reason == .lockedOut)
    }

    @Test func aLockBackToANewLocksStateIsForgotten() async throws {
        let store = try TemporaryStore()
        try store.insert([AccessEngineTests.booking])
        let right = store.testSite.pin(of: AccessEngineTests.booking)
        #expect(await decide(store, pin: right, at: Self.startMs)?.decision.reason == .granted)
        #expect(
            await decide(store, lockID: "lock-2", pin: "00000000", at: Self.startMs)?.decision.reason
                == .invalidCredential)
        #expect(store.engine.admissionStateCount == 2)
        // A moment later lock-1's budget is not yet refilled: kept.
        #expect(store.engine.forgetIdleAdmissionState(nowMs: Self.startMs + 1) == 0)
        // Once the budget is full, lock-1 is forgotten; lock-2's wrong PIN is within the window.
        #expect(store.engine.forgetIdleAdmissionState(nowMs: Self.startMs + 10_000) == 1)
        #expect(store.engine.admissionStateCount == 1)
        // After the failure window lock-2 goes too, and lock-1 still opens as before.
        #expect(store.engine.forgetIdleAdmissionState(nowMs: Self.startMs + 301_000) == 1)
        #expect(store.engine.admissionStateCount == 0)
        #expect(await decide(store, pin: right, at: Self.startMs + 302_000)?.decision.reason == .granted)
    }

    /// Sweeps in a loop on a thread of its own (a spinning task would hold one of Swift's few
    /// cooperative threads, which the decisions under test need) until stopped.
    final class Sweeper: Sendable {
        let stopped = Mutex(false)
        let exited = DispatchSemaphore(value: 0)

        init(_ store: TemporaryStore, nowMs: Int64) {
            let thread = Thread { [self] in
                while !stopped.withLock({ $0 }) { store.engine.forgetIdleAdmissionState(nowMs: nowMs) }
                exited.signal()
            }
            thread.start()
        }

        func stop() {
            stopped.withLock { $0 = true }
            exited.wait()
        }
    }

    @Test func sweepingWhileWrongPINsArriveLosesNoFailure() async throws {
        for round in 0..<20 {
            let store = try TemporaryStore()
            try store.insert([AccessEngineTests.booking])
            let nowMs = Self.startMs + Int64(round)
            let sweeper = Sweeper(store, nowMs: nowMs + 10_000)
            let lockouts = await withTaskGroup(of: Bool.self) { group in
                for _ in 1...5 {
                    group.addTask { await decide(store, pin: "00000000", at: nowMs)?.lockoutStartedS != nil }
                }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            sweeper.stop()
            #expect(lockouts == 1, "round \(round): five concurrent wrong PINs must start exactly one lockout")
        }
    }
}
