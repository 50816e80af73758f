import Synchronization

/// The last unlock sent to each dialect lock, so the device's own confirmation (the relay on,
/// the bolt open, Nuki's `commandResponse`) can be matched to the command the gateway issued.
/// One entry per lock at most: bounded by the inventory.
final class PendingUnlocks: Sendable {
    struct Unlock: Sendable, Hashable {
        var commandID: String
        var notAfterMs: Int64
    }

    private let pending = Mutex<[String: Unlock]>([:])

    func issued(lockID: String, commandID: String, notAfterMs: Int64) {
        pending.withLock { $0[lockID] = Unlock(commandID: commandID, notAfterMs: notAfterMs) }
    }

    /// The lock's outstanding unlock, taken (a confirmation counts once).
    func take(lockID: String) -> Unlock? {
        pending.withLock { $0.removeValue(forKey: lockID) }
    }

    func forget(keeping lockIDs: Set<String>) {
        pending.withLock { pending in pending = pending.filter { lockIDs.contains($0.key) } }
    }
}
