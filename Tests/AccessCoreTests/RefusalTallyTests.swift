import AccessCore
import AccessProtocol
import Testing

/// The per-minute window of `rate_limited` and `busy` decisions, without I/O.
@Suite struct RefusalTallyTests {
    @Test func aWindowOpensWithTheFirstRefusalAndClosesAMinuteLater() {
        var tally = RefusalTally()
        #expect(tally.count(lockID: "lock-1", reason: .rateLimited, nowMs: 1_000) == nil)
        #expect(tally.count(lockID: "lock-1", reason: .rateLimited, nowMs: 30_000) == nil)
        #expect(tally.count(lockID: "lock-1", reason: .busy, nowMs: 30_500) == nil)
        #expect(tally.count(lockID: "lock-2", reason: .rateLimited, nowMs: 31_000) == nil)
        #expect(tally.closeEnded(nowMs: 60_999).isEmpty)
        let closed = tally.closeEnded(nowMs: 61_000)
        #expect(closed.map(\.count) == [2] && closed.first?.lastMs == 30_000 && closed.first?.lockID == "lock-1")
        #expect(tally.openCount == 2)

        // A refusal after the window's end closes it and opens the next one.
        let replaced = tally.count(lockID: "lock-2", reason: .rateLimited, nowMs: 91_000)
        #expect(replaced?.count == 1 && replaced?.openedMs == 31_000)
        let record = try? #require(replaced).auditRecord(gatewayID: "gw-1")
        #expect(record?.count == 1 && record?.requestID == nil && record?.timestampMs == 31_000)

        let rest = tally.closeAll()
        #expect(rest.map(\.reason) == [.busy, .rateLimited] && tally.openCount == 0)
    }

    @Test func windowsNearTheEndOfTimeDoNotOverflow() {
        var tally = RefusalTally()
        #expect(tally.count(lockID: "lock-1", reason: .busy, nowMs: .max - 10) == nil)
        #expect(tally.count(lockID: "lock-1", reason: .busy, nowMs: .max) == nil)
        #expect(tally.closeEnded(nowMs: .max).isEmpty && tally.closeAll().first?.count == 2)
    }
}
