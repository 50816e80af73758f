import AccessProtocol
import Synchronization

/// The keys of the locks commands were lately signed for, derived and set up (`PreparedHMAC`):
/// deriving a lock's key and setting it up for each grant was 2 % of a PIN decision's CPU at
/// saturation. Bounded: past `limit` locks it starts again empty, so a site of 100k locks holds
/// at most `limit` keys (about 0.7 KB each). Each configuration has its own (a reload may change
/// the site key).
final class LockKeyCache: Sendable {
    static let limit = 1024

    private let keys = Mutex<[String: PreparedHMAC]>([:])

    /// The prepared key of `lockID`, made by `derive` when not held.
    func key(_ lockID: String, derive: () -> PreparedHMAC) -> PreparedHMAC {
        if let key = keys.withLock({ $0[lockID] }) { return key }
        let key = derive()
        keys.withLock { keys in
            if keys.count >= Self.limit { keys.removeAll(keepingCapacity: true) }
            keys[lockID] = key
        }
        return key
    }

    var count: Int { keys.withLock { $0.count } }
}
