import AccessGateway
import Testing

/// The request lanes' rules, without I/O.
@Suite struct PerLockQueuesTests {
    @Test func oneLocksRequestsLeaveInOrderOneAtATime() {
        var queues = PerLockQueues<Int>(perLockCapacity: 10, totalCapacity: 100)
        for item in 0..<5 { _ = queues.enqueue(item, lockID: "a") }
        var order: [Int] = []
        while let (lockID, item) = queues.take() {
            // Nothing more of the same lock is handed out until this one is finished.
            #expect(queues.take() == nil)
            order.append(item)
            queues.finish(lockID: lockID)
        }
        #expect(order == [0, 1, 2, 3, 4])
        #expect(queues.isIdle && queues.locksWithWork == 0)
    }

    @Test func locksAreServedRoundRobinSoAFloodingLockWaitsItsTurn() {
        var queues = PerLockQueues<String>(perLockCapacity: 100, totalCapacity: 1000)
        for index in 0..<50 { _ = queues.enqueue("flood-\(index)", lockID: "flood") }
        _ = queues.enqueue("quiet-0", lockID: "quiet")
        var served: [String] = []
        for _ in 0..<4 {
            guard let (lockID, item) = queues.take() else { break }
            served.append(item)
            queues.finish(lockID: lockID)
        }
        // The quiet lock's one request is the second served, not the fifty-first.
        #expect(served == ["flood-0", "quiet-0", "flood-1", "flood-2"])
    }

    @Test func differentLocksAreHandedOutConcurrently() {
        var queues = PerLockQueues<Int>(perLockCapacity: 10, totalCapacity: 100)
        #expect(queues.enqueue(1, lockID: "a") == .queued(ready: true))
        #expect(queues.enqueue(2, lockID: "a") == .queued(ready: false))
        #expect(queues.enqueue(3, lockID: "b") == .queued(ready: true))
        let first = queues.take()
        let second = queues.take()
        #expect(first?.lockID == "a" && second?.lockID == "b")
        #expect(queues.take() == nil)
    }

    @Test func lanesAreBoundedPerLockAndInTotal() throws {
        var queues = PerLockQueues<Int>(perLockCapacity: 3, totalCapacity: 5)
        for item in 0..<3 { #expect(queues.enqueue(item, lockID: "a") != .lockFull) }
        #expect(queues.enqueue(3, lockID: "a") == .lockFull)
        #expect(queues.enqueue(4, lockID: "b") == .queued(ready: true))
        #expect(queues.enqueue(5, lockID: "c") == .queued(ready: true))
        // Full: a lock with nothing waiting still gets in, in place of the oldest request of the
        // lock with the most; one that would not have fewer than that lock is refused.
        #expect(queues.enqueue(6, lockID: "d") == .queuedEvicting(ready: true, evicted: 0, fromLockID: "a"))
        #expect(queues.enqueue(8, lockID: "b") == .full)
        #expect(queues.count == 5 && queues.waiting(lockID: "a") == 2)
        #expect(queues.enqueue(9, lockID: "e") == .queuedEvicting(ready: true, evicted: 1, fromLockID: "a"))
        #expect(queues.enqueue(10, lockID: "f") == .full)
        // A lock being decided keeps its place: its next request joins the round when it finishes.
        let taken = queues.take()
        let lockID = try #require(taken?.lockID)
        #expect(lockID == "a" && taken?.item == 2)
        #expect(queues.enqueue(7, lockID: "a") == .queued(ready: false))
        queues.finish(lockID: lockID)
        #expect(queues.waiting(lockID: "a") == 1)
    }
}
