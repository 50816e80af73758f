import DequeModule

/// The request lanes' rules, pure (no I/O, no locks; unit-tested as they are): one FIFO queue
/// per lock, at most one request per lock being decided (so one lock's decisions keep its
/// requests' order), and locks served round-robin (so a flooding lock waits its turn like any
/// other and cannot starve the rest). Bounded per lock and in total.
public struct PerLockQueues<Item> {
    public enum Offer: Equatable {
        /// Queued; `ready` when the lock just joined the round (a worker may take it at once).
        case queued(ready: Bool)
        /// Refused: this lock already has `perLockCapacity` requests waiting.
        case lockFull
        /// Refused: `totalCapacity` requests of all locks are waiting.
        case full
    }

    public let perLockCapacity: Int
    public let totalCapacity: Int
    private var queues: [String: Deque<Item>] = [:]
    /// Locks with a waiting request and none being decided, in the order they are served.
    private var ready = Deque<String>()
    private var busy = Set<String>()
    public private(set) var count = 0

    public init(perLockCapacity: Int, totalCapacity: Int) {
        self.perLockCapacity = max(1, perLockCapacity)
        self.totalCapacity = max(1, totalCapacity)
    }

    public mutating func enqueue(_ item: Item, lockID: String) -> Offer {
        let waiting = queues[lockID]?.count ?? 0
        guard waiting < perLockCapacity else { return .lockFull }
        guard count < totalCapacity else { return .full }
        queues[lockID, default: []].append(item)
        count += 1
        guard waiting == 0, !busy.contains(lockID) else { return .queued(ready: false) }
        ready.append(lockID)
        return .queued(ready: true)
    }

    /// The next lock's oldest request; the lock is busy until `finish(lockID:)`.
    public mutating func take() -> (lockID: String, item: Item)? {
        guard let lockID = ready.popFirst(), let item = queues[lockID]?.popFirst() else { return nil }
        count -= 1
        busy.insert(lockID)
        return (lockID, item)
    }

    /// The lock's request was decided and published: it rejoins the round at the back if more wait.
    public mutating func finish(lockID: String) {
        busy.remove(lockID)
        if queues[lockID]?.isEmpty == false {
            ready.append(lockID)
        } else {
            queues[lockID] = nil  // memory follows the locks with work, not every lock ever seen
        }
    }

    public var isIdle: Bool { count == 0 && busy.isEmpty }
    public var locksWithWork: Int { queues.count }
    public func waiting(lockID: String) -> Int { queues[lockID]?.count ?? 0 }
}
