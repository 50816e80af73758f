import AccessCore
import AccessEngine
import AccessProtocol
import AccessStore
import AccessTesting
import Testing

/// (v1.1) Order of checks 4b, and the per-minute audit of `rate_limited` and `busy`: a request too
/// old to act on is `busy` with `retryAfterS` and never a command; a flood of refusals writes one
/// record per lock and minute, with its `count`.
@Suite struct LoadSheddingTests {
    static let startMs = AccessEngineTests.startMs
    static let booking = AccessEngineTests.booking

    func decide(
        _ store: TemporaryStore, token: String, requestID: String, nowMs: Int64, queuedMs: Int64 = 0,
        ts: Int64? = nil
    ) async -> AccessDecided? {
        let payload = TestSite.requestPayload(requestID: requestID, credential: .token(token), ts: ts)
        guard
            case .decided(let decided) = await store.engine.handle(
                lockID: "lock-1", payload: payload, nowMs: nowMs, queuedMs: queuedMs)
        else { return nil }
        return decided
    }

    @Test func aRequestThatWaitedTooLongOrWasSentTooLongAgoIsBusyNeverGranted() async throws {
        let store = try TemporaryStore()
        defer { store.remove() }
        try store.insert([Self.booking])
        let token = store.testSite.token(for: Self.booking, jti: "t-1")
        let now = Self.startMs

        let waited = try #require(await decide(store, token: token, requestID: "r-1", nowMs: now, queuedMs: 2_001))
        #expect(waited.decision.reason == .busy && waited.command == nil && waited.audit == nil)
        #expect(waited.decision.requestID == "r-1" && waited.decision.retryAfterS == 3)
        #expect(waited.decision.payload.contains(#""reason":"busy""#))

        let old = try #require(await decide(store, token: token, requestID: "r-2", nowMs: now, ts: now - 30_001))
        #expect(old.decision.reason == .busy && old.decision.retryAfterS == 1 && old.command == nil)

        // At the limits it is still decided: a grant, with its command and audit record.
        let fresh = try #require(
            await decide(store, token: token, requestID: "r-3", nowMs: now, queuedMs: 2_000, ts: now - 30_000))
        #expect(fresh.decision.reason == .granted && fresh.command != nil && fresh.audit?.seq == 1)
        // A ts ahead of the gateway's clock (a lock whose clock runs fast) is not too old.
        let ahead = try #require(await decide(store, token: token, requestID: "r-4", nowMs: now, ts: now + 60_000))
        #expect(ahead.decision.reason == .granted)
    }

    @Test func busyAndRateLimitedAreAuditedPerLockAndMinuteWithTheirCount() async throws {
        let store = try TemporaryStore()
        defer { store.remove() }
        try store.insert([Self.booking])
        let token = store.testSite.token(for: Self.booking, jti: "t-1")
        let now = Self.startMs
        // The budget is 10 per second: 10 busy (too old), then 490 rate_limited, within 5 ms.
        for index in 0..<500 {
            let decided = await decide(
                store, token: token, requestID: "r-\(index)", nowMs: now + Int64(index / 100), ts: now - 60_000)
            #expect(decided?.decision.reason == (index < 10 ? .busy : .rateLimited))
        }
        // Nothing is committed while the windows are open, not even by a sweep before they close.
        #expect(await store.engine.commitRefusalTallies(nowMs: now + 59_999) == nil)
        #expect(try AuditLog.verify(store.store.pool).verifiedRecords == 0)
        #expect(store.engine.openRefusalWindows == 2)

        // A minute after each window opened it closes: one record each, `ts` of its last decision.
        #expect(await store.engine.commitRefusalTallies(nowMs: now + 60_010) == nil)
        let records = try store.store.auditRecords(afterSeq: 0, limit: 10).map(\.record)
        #expect(records.count == 2)
        let busy = try #require(records.first { $0.reason == .busy })
        let limited = try #require(records.first { $0.reason == .rateLimited })
        #expect(busy.count == 10 && busy.timestampMs == now && busy.requestID == nil && !busy.granted)
        #expect(limited.count == 490 && limited.timestampMs == now + 4 && limited.requestID == nil)
        #expect(limited.canonical.contains(#""count":490"#))
        #expect(try AuditLog.verify(store.store.pool).isIntact)
        #expect(store.engine.openRefusalWindows == 0)

        // The next refusal opens a new window; the one it replaces would be committed by it.
        let later = await decide(store, token: token, requestID: "r-x", nowMs: now + 61_000, ts: now)
        #expect(later?.decision.reason == .busy)
        #expect(await store.engine.commitRefusalTallies(nowMs: now + 61_000, all: true) == nil)
        #expect(try store.store.auditRecords(afterSeq: 2, limit: 10).map(\.record.count) == [1])
    }
}
