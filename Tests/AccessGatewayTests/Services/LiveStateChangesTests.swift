import Testing

@testable import AccessGateway

/// The live state's pending changes: a take moves out at most its limit and leaves the rest.
@Suite struct LiveStateChangesTests {
    @Test func aTakeMovesAtMostItsLimitAndTheRestStaysPending() {
        let changes = LiveStateChanges()
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
