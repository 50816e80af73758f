import DequeModule

/// The request lanes' rules, pure (no I/O, no locks; unit-tested as they are): one FIFO queue
/// per lock, at most one request per lock being decided (so one lock's decisions keep its
/// requests' order), and locks served round-robin (so a flooding lock waits its turn like any
/// other and cannot starve the rest). Bounded per lock and in total; when the total is reached,
/// a lock with fewer requests waiting still gets in: the oldest request of a lock with the most
/// waiting makes room (so many flooding locks together cannot shut a well-behaved one out).
public struct PerLockQueues<Item> {
    public enum Offer {
        /// Queued; `ready` when the lock just joined the round (a worker may take it at once).
        case queued(ready: Bool)
        /// Queued in place of `evicted`, the oldest request of a lock with the most waiting.
        case queuedEvicting(ready: Bool, evicted: Item, fromLockID: String)
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
    /// Locks by how many requests they have waiting (index 1...perLockCapacity), and an upper
    /// bound of the longest: finding a lock to make room is O(1) amortized, never a scan.
    private var locksByLength: [Set<String>]
    private var longest = 0

    public init(perLockCapacity: Int, totalCapacity: Int) {
        self.perLockCapacity = max(1, perLockCapacity)
        self.totalCapacity = max(1, totalCapacity)
        locksByLength = Array(repeating: [], count: self.perLockCapacity + 1)
    }

    public mutating func enqueue(_ item: Item, lockID: String) -> Offer {
        let own = queues[lockID]?.count ?? 0
        guard own < perLockCapacity else { return .lockFull }
        var evicted: (item: Item, lockID: String)?
        if count >= totalCapacity {
            guard let victim = lockToMakeRoom(below: own + 1), let oldest = queues[victim]?.popFirst() else {
                return .full
            }
            count -= 1
            let left = waiting(lockID: victim)
            moved(victim, from: left + 1, to: left)
            evicted = (oldest, victim)
        }
        queues[lockID, default: []].append(item)
        count += 1
        moved(lockID, from: own, to: own + 1)
        let joined = own == 0 && !busy.contains(lockID)
        if joined { ready.append(lockID) }
        if let evicted { return .queuedEvicting(ready: joined, evicted: evicted.item, fromLockID: evicted.lockID) }
        return .queued(ready: joined)
    }

    /// The next lock's oldest request; the lock is busy until `finish(lockID:)`.
    public mutating func take() -> (lockID: String, item: Item)? {
        guard let lockID = ready.popFirst(), let item = queues[lockID]?.popFirst() else { return nil }
        count -= 1
        busy.insert(lockID)
        let left = waiting(lockID: lockID)
        moved(lockID, from: left + 1, to: left)
        return (lockID, item)
    }

    /// A lock with more than `length` requests waiting, one of those with the most; nil if none.
    private mutating func lockToMakeRoom(below length: Int) -> String? {
        while longest > 0 && locksByLength[longest].isEmpty { longest -= 1 }
        guard longest > length else { return nil }
        return locksByLength[longest].first
    }

    private mutating func moved(_ lockID: String, from old: Int, to new: Int) {
        if old > 0 { locksByLength[old].remove(lockID) }
        if new > 0 {
            locksByLength[new].insert(lockID)
            longest = max(longest, new)
        }
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

extension PerLockQueues.Offer: Equatable where Item: Equatable {}
