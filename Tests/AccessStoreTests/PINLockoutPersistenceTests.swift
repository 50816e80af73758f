import AccessCore
import AccessEngine
import AccessProtocol
import AccessStore
import AccessTesting
import Testing

/// A restart must not give a brute-forcer a fresh count: the lockout, its count and its doubling
/// are stored with the audit record of the PIN that changed them and restored by a new engine.
@Suite struct PINLockoutPersistenceTests {
    static let startMs = AccessEngineTests.startMs

    func decide(_ engine: AccessEngine, pin: String, at nowMs: Int64) async -> AccessDecided? {
        let payload = TestSite.requestPayload(requestID: "r-\(nowMs)", credential: .pin(pin))
        guard case .decided(let decided) = await engine.handle(lockID: "lock-1", payload: payload, nowMs: nowMs)
        else { return nil }
        return decided
    }

    /// The same store after a restart: a new engine, as the daemon makes at start.
    func restarted(_ store: TemporaryStore) -> AccessEngine {
        AccessEngine(store: store.store, auditLog: store.auditLog, configuration: store.engine.currentConfiguration)
    }

    @Test func aLockoutItsCountAndItsDoublingSurviveARestart() async throws {
        let store = try TemporaryStore()
        defer { store.remove() }
        try store.insert([AccessEngineTests.booking])
        let wrong = "00000000"
        let start = Self.startMs
        // Three wrong PINs, then a restart: two more still start the lockout.
        for attempt in 0..<3 {
            #expect(
                await decide(store.engine, pin: wrong, at: start + Int64(attempt) * 1000)?.decision.reason
                    == .invalidCredential)
        }
        var engine = restarted(store)
        #expect(await decide(engine, pin: wrong, at: start + 3000)?.decision.reason == .invalidCredential)
        let fifth = await decide(engine, pin: wrong, at: start + 4000)
        #expect(fifth?.decision.reason == .invalidCredential && fifth?.lockoutStartedS == 60)

        // Locked out across a restart, with the seconds left.
        engine = restarted(store)
        let locked = await decide(engine, pin: wrong, at: start + 14_000)
        #expect(locked?.decision.reason == .lockedOut && locked?.decision.retryAfterS == 50)

        // After it, five more wrong PINs double it, across another restart.
        engine = restarted(store)
        for attempt in 0..<4 {
            _ = await decide(engine, pin: wrong, at: start + 70_000 + Int64(attempt) * 1000)
        }
        engine = restarted(store)
        let again = await decide(engine, pin: wrong, at: start + 75_000)
        #expect(again?.lockoutStartedS == 120)
    }
}
