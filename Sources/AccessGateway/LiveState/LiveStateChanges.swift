import AccessCore
import AccessProtocol
import Synchronization

/// Which devices' live state changed since it was last published, and each lock's last
/// decision. Bounded by the inventory: a set entry per device, one decision per lock of it.
final class LiveStateChanges: Sendable {
    struct Pending: Sendable {
        var locks: Set<String> = []
        var poles: Set<String> = []
        var alarms = false
        /// Every device, at start and after a reload.
        var everything = true

        var isEmpty: Bool { locks.isEmpty && poles.isEmpty && !alarms }

        /// Moves the alarm flag and up to `limit` devices (locks first) out of this into the result.
        mutating func split(limit: Int) -> Pending {
            var taken = Pending(everything: false)
            taken.alarms = alarms
            alarms = false
            var room = max(0, limit)
            for lockID in locks.prefix(room) { taken.locks.insert(lockID) }
            locks.subtract(taken.locks)
            room -= taken.locks.count
            for poleID in poles.prefix(room) { taken.poles.insert(poleID) }
            poles.subtract(taken.poles)
            locks.refitWhenMostlyEmpty()  // after the start's 100k locks, 4 MB of empty buckets
            return taken
        }
    }

    static let recentLimit = 50

    /// A decision as the status page lists it: never a holder, only a short keyed tag.
    struct RecentDecision: Sendable, Hashable {
        var lockID: String
        var granted: Bool
        var reason: String
        var timestampMs: Int64
        var holderTag: String?
    }

    private let recent = Mutex<[RecentDecision]>([])
    private let pending = Mutex(Pending())
    private let decisions: Mutex<LastDecisions>
    /// Each change, for the status page's live updates (a counter it can wait on).
    let version = Atomic<Int>(0)

    init(inventory: LockInventory) {
        decisions = Mutex(LastDecisions(inventory: inventory))
    }

    /// A reload: locks still in the inventory keep their last decision.
    func replaceInventory(_ inventory: LockInventory) {
        decisions.withLock { $0.replaceInventory(inventory) }
    }

    func lockChanged(_ lockID: String) {
        pending.withLock { _ = $0.locks.insert(lockID) }
        version.add(1, ordering: .relaxed)
    }

    func poleChanged(_ poleID: String) {
        pending.withLock { _ = $0.poles.insert(poleID) }
        version.add(1, ordering: .relaxed)
    }

    func alarmChanged(lockID: String?, poleID: String?) {
        pending.withLock {
            if let lockID { $0.locks.insert(lockID) }
            if let poleID { $0.poles.insert(poleID) }
            $0.alarms = true
        }
        version.add(1, ordering: .relaxed)
    }

    func everythingChanged() {
        pending.withLock {
            $0.everything = true
            $0.alarms = true
        }
        version.add(1, ordering: .relaxed)
    }

    func decided(lockID: String, granted: Bool, reason: String, ts: Int64, holderTag: String? = nil) {
        recent.withLock { recent in
            recent.append(
                RecentDecision(lockID: lockID, granted: granted, reason: reason, timestampMs: ts, holderTag: holderTag))
            if recent.count > Self.recentLimit { recent.removeFirst(recent.count - Self.recentLimit) }
        }
        decisions.withLock { $0.record(lockID: lockID, granted: granted, reason: reason, timestampMs: ts) }
        lockChanged(lockID)
    }

    /// The last 50 decisions, newest first.
    var recentDecisions: [RecentDecision] { recent.withLock { $0.reversed() } }

    func lastDecision(lockID: String) -> LiveStateMessages.LastDecision? {
        decisions.withLock { $0.last(lockID: lockID) }
    }

    /// Takes what changed; `everything` is answered by the caller with every device it knows.
    /// Whether every device must be published (at start, after a reload); clears the flag.
    func takeEverything() -> Bool {
        pending.withLock { pending in
            defer { pending.everything = false }
            return pending.everything
        }
    }

    /// The alarm flag and up to `limit` changed devices (locks first); the rest stay pending. The
    /// service takes a second's budget at a time, so a backlog of 100k locks costs it no copy,
    /// sort or re-insert of the whole set every second.
    func take(limit: Int) -> Pending {
        pending.withLock { $0.split(limit: limit) }
    }

    /// Puts back what could not be published (a full outbound queue, no connection).
    func putBack(locks: some Sequence<String>, poles: some Sequence<String>, alarms: Bool) {
        pending.withLock {
            $0.locks.formUnion(locks)
            $0.poles.formUnion(poles)
            $0.alarms = $0.alarms || alarms
        }
    }
}
