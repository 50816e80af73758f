import AccessCore
import Synchronization

/// How many answers a lock that is being refused before any work (`rate_limited`, or
/// `unknown_lock` for ids not in the inventory) gets per second. Each answer is a QoS 1 message
/// on the gateway's one connection, whose in-flight window every lock shares: a device flooding
/// at 40,000 requests a second would otherwise queue as many decisions ahead of everyone
/// else's. Beyond the budget the decision is still made and counted, but not published; the
/// flooding lock has its answer already, many times over. (Documented in docs/protocol.md.)
final class AnswerBudget: Sendable {
    /// Unknown lock ids share one budget: they are not in the inventory, so not bounded by it.
    static let unknownLocksKey = "\u{0}unknown"

    private let buckets = Mutex<[String: TokenBucket]>([:])

    /// Whether this refusal may be published; `ratePerS` is the per-lock request budget.
    func allows(lockID: String, ratePerS: Double, nowMs: Int64) -> Bool {
        buckets.withLock { buckets in
            var bucket = buckets[lockID] ?? TokenBucket(ratePerS: ratePerS)
            if bucket.configuredRatePerS != ratePerS { bucket = TokenBucket(ratePerS: ratePerS) }
            let allowed = bucket.admit(nowMs: nowMs)
            buckets[lockID] = bucket
            return allowed
        }
    }

    /// Forgets the buckets that are full again (a lock no longer refused); returns how many remain.
    @discardableResult
    func forgetFull(nowMs: Int64) -> Int {
        buckets.withLock { buckets in
            buckets = buckets.filter { !$0.value.isFull(atMs: nowMs) }
            return buckets.count
        }
    }
}
