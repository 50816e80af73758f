import AccessCore
import Testing

@testable import AccessGateway

/// The live state's pending changes: a take moves out at most its limit and leaves the rest.
@Suite struct LiveStateChangesTests {
    @Test func aTakeMovesAtMostItsLimitAndTheRestStaysPending() {
        let changes = LiveStateChanges(inventory: LockInventory([]))
        #expect(changes.takeEverything(), "everything is published once at start")
        #expect(!changes.takeEverything())
        for index in 1...5 { changes.lockChanged("lock-\(index)") }
        changes.poleChanged("pole-1")
        changes.alarmChanged(lockID: nil, poleID: nil)

        var taken: [Set<String>] = []
        let first = changes.take(limit: 2)
        #expect(first.alarms)
        taken.append(first.locks.union(first.poles))
        for _ in 0..<3 {
            let next = changes.take(limit: 2)
            #expect(!next.alarms)
            taken.append(next.locks.union(next.poles))
        }
        #expect(taken.map(\.count) == [2, 2, 2, 0])
        #expect(taken.reduce(into: Set<String>()) { $0.formUnion($1) }.count == 6)
        // Locks go before poles.
        #expect(taken[2].contains("pole-1"))

        changes.putBack(locks: ["lock-9"], poles: [], alarms: true)
        let again = changes.take(limit: 0)
        #expect(again.alarms && again.locks.isEmpty)
        #expect(changes.take(limit: 5).locks == ["lock-9"])
    }
}

extension LiveStateChangesTests {
    /// Every lock is pending once at start; once they have gone out, their buckets must go too.
    @Test func aDrainedBacklogGivesItsMemoryBack() {
        var pending = LiveStateChanges.Pending(everything: false)
        for index in 0..<20_000 { pending.locks.insert("lock-\(index)") }
        let large = pending.locks.capacity
        var taken = 0
        while !pending.locks.isEmpty { taken += pending.split(limit: 2_000).locks.count }
        #expect(taken == 20_000)
        #expect(pending.locks.capacity < large / 4, "capacity \(pending.locks.capacity) of \(large)")
    }
}

/// Each lock's last decision, kept in the inventory's order.
@Suite struct LastDecisionsTests {
    func inventory(_ ids: [String]) -> LockInventory {
        LockInventory(ids.map { Lock(id: $0, spaceID: "room-1") })
    }

    @Test func keepsTheLastDecisionOfEachLockOfTheInventoryOnly() {
        var decisions = LastDecisions(inventory: inventory(["lock-1", "lock-2"]))
        #expect(decisions.last(lockID: "lock-1") == nil)
        decisions.record(lockID: "lock-1", granted: true, reason: "granted", timestampMs: 10)
        decisions.record(lockID: "lock-1", granted: false, reason: "no_reservation", timestampMs: 20)
        decisions.record(lockID: "lock-2", granted: true, reason: "granted", timestampMs: 30)
        decisions.record(lockID: "not-a-lock", granted: false, reason: "unknown_lock", timestampMs: 40)
        #expect(decisions.last(lockID: "lock-1") == .init(granted: false, reason: "no_reservation", timestampMs: 20))
        #expect(decisions.last(lockID: "lock-2") == .init(granted: true, reason: "granted", timestampMs: 30))
        #expect(decisions.last(lockID: "not-a-lock") == nil)
    }

    @Test func aReloadKeepsTheDecisionsOfLocksStillThere() {
        var decisions = LastDecisions(inventory: inventory(["lock-5", "lock-9"]))
        decisions.record(lockID: "lock-9", granted: true, reason: "granted", timestampMs: 10)
        decisions.record(lockID: "lock-5", granted: false, reason: "expired", timestampMs: 11)
        decisions.replaceInventory(inventory(["lock-1", "lock-9"]))
        #expect(decisions.last(lockID: "lock-9") == .init(granted: true, reason: "granted", timestampMs: 10))
        #expect(decisions.last(lockID: "lock-1") == nil && decisions.last(lockID: "lock-5") == nil)
    }

    @Test func reasonsBeyondTheLimitAreNotKept() {
        var decisions = LastDecisions(inventory: inventory(["lock-1", "lock-2"]))
        for index in 0..<LastDecisions.reasonLimit {
            decisions.record(lockID: "lock-1", granted: false, reason: "reason-\(index)", timestampMs: Int64(index))
        }
        decisions.record(lockID: "lock-2", granted: false, reason: "one-too-many", timestampMs: 1)
        #expect(decisions.last(lockID: "lock-2") == nil)
        let last = LastDecisions.reasonLimit - 1
        #expect(decisions.last(lockID: "lock-1")?.reason == "reason-\(last)")
    }
}
