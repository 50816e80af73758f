import AccessCore
import AccessEngine
import AccessProtocol
import AccessStore
import AccessTesting
import GRDB
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

    func stored(_ store: TemporaryStore) throws -> (failures: String, lastEndedMs: Int64?)? {
        try store.store.pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT failure_times_ms, last_lockout_ended_ms FROM pin_lockouts WHERE lock_id = 'lock-1'"
            ).map { ($0[0], $0[1]) }
        }
    }

    /// A PIN that leaves the lock's state as the store holds it writes no row; a state whose
    /// audit commit failed is written by the lock's next PIN, whatever that PIN decides.
    @Test func aStoredStateIsNotWrittenAgainAndOneWhoseCommitFailedIs() async throws {
        let store = try TemporaryStore()
        try store.insert([AccessEngineTests.booking])
        let right = store.testSite.pin(of: AccessEngineTests.booking)
        let wrong = "00000000"
        // Two hours before the booking: a right PIN is `not_yet_valid`, which counts nothing.
        let t = Self.startMs - 2 * 3_600_000
        #expect(await decide(store.engine, pin: wrong, at: t)?.decision.reason == .invalidCredential)
        #expect(try stored(store)?.failures == "\(t)")

        // A mark in the stored row stays: the right PIN changed no state, so wrote none.
        try await store.store.pool.write { db in
            try db.execute(sql: "UPDATE pin_lockouts SET last_lockout_ended_ms = -1")
        }
        #expect(await decide(store.engine, pin: right, at: t + 1000)?.decision.reason == .notYetValid)
        #expect(try stored(store)?.lastEndedMs == -1)

        // A wrong PIN whose audit commit fails is counted in memory, not in the file ...
        try await store.store.pool.write { db in
            try db.execute(
                sql: "CREATE TRIGGER refuse BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'refused'); END")
        }
        #expect(await decide(store.engine, pin: wrong, at: t + 2000)?.decision.reason == .internalError)
        try await store.store.pool.write { db in try db.execute(sql: "DROP TRIGGER refuse") }
        #expect(try stored(store)?.failures == "\(t)")
        // ... so the next PIN writes the state, though it changes nothing itself.
        #expect(await decide(store.engine, pin: right, at: t + 3000)?.decision.reason == .notYetValid)
        #expect(try stored(store)?.failures == "\(t),\(t + 2000)")
        #expect(try stored(store)?.lastEndedMs == nil)
    }
}
