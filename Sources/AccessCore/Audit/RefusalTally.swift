import AccessProtocol

/// (v1.1) `rate_limited` and `busy` decisions are audited per lock and minute, not one record per
/// message: a flooding device can produce them by the thousand, and one commit each would let it
/// fill the disk and slow every other lock's commits.
///
/// A window opens with a lock's first such decision (per reason) and lasts `windowMs`; when it
/// closes it yields one record: its `count`, and the `ts` of its last decision. Pure: the owner
/// feeds it decisions and the time, and commits what it returns. Its size follows the configured
/// locks (two windows at most per lock), never the number of messages.
public struct RefusalTally: Sendable {
    public static let windowMs: Int64 = 60_000
    /// The reasons audited this way.
    public static let reasons: Set<DecisionReason> = [.rateLimited, .busy]

    /// One lock's refusals of one reason within a window.
    public struct Window: Sendable, Hashable {
        public var lockID: String
        public var reason: DecisionReason
        public var openedMs: Int64
        public var lastMs: Int64
        public var count: Int64

        /// The aggregated audit record (`seq` is assigned when it is appended).
        public func auditRecord(gatewayID: String) -> AuditRecord {
            AuditRecord(
                timestampMs: lastMs, gatewayID: gatewayID, lockID: lockID, granted: false, reason: reason,
                count: count)
        }
    }

    /// An open window without its lock and reason, which are its keys: 40 bytes a bucket (the
    /// lock id and these 24) instead of 72, because at 100k locks an overload opens a `busy`
    /// window for every lock.
    struct Tally: Sendable {
        var openedMs: Int64
        var lastMs: Int64
        var count: Int64

        func window(lockID: String, reason: DecisionReason) -> Window {
            Window(lockID: lockID, reason: reason, openedMs: openedMs, lastMs: lastMs, count: count)
        }
    }

    /// Open windows by reason, then by lock.
    private var open: [DecisionReason: [String: Tally]] = [:]

    public init() {}

    /// Windows open now.
    public var openCount: Int { open.values.reduce(0) { $0 + $1.count } }

    /// Counts one refusal at `nowMs`. Returns the lock's previous window of this reason when it
    /// had ended (its record is due), after which this refusal opens a new one.
    public mutating func count(lockID: String, reason: DecisionReason, nowMs: Int64) -> Window? {
        var closed: Window?
        if var tally = open[reason]?[lockID] {
            if !Self.hasEnded(openedMs: tally.openedMs, atMs: nowMs) {
                tally.count += 1
                tally.lastMs = max(tally.lastMs, nowMs)
                open[reason, default: [:]][lockID] = tally
                return nil
            }
            closed = tally.window(lockID: lockID, reason: reason)
        }
        open[reason, default: [:]][lockID] = Tally(openedMs: nowMs, lastMs: nowMs, count: 1)
        return closed
    }

    /// Removes and returns the windows that have ended by `nowMs`, oldest first.
    public mutating func closeEnded(nowMs: Int64) -> [Window] {
        var ended: [Window] = []
        for reason in Array(open.keys) {
            guard var tallies = open.removeValue(forKey: reason) else { continue }
            // Filtered first: removing while iterating would copy the whole table.
            let endedTallies = tallies.filter { Self.hasEnded(openedMs: $0.value.openedMs, atMs: nowMs) }
            for (lockID, tally) in endedTallies {
                ended.append(tally.window(lockID: lockID, reason: reason))
                tallies[lockID] = nil
            }
            tallies.refitWhenMostlyEmpty()  // after an overload over many locks
            if !tallies.isEmpty { open[reason] = tallies }
        }
        return ended.sorted { ($0.openedMs, $0.lockID) < ($1.openedMs, $1.lockID) }
    }

    /// Removes and returns every open window (at shutdown: committed early rather than lost).
    public mutating func closeAll() -> [Window] {
        defer { open = [:] }
        let all = open.flatMap { reason, tallies in
            tallies.map { lockID, tally in tally.window(lockID: lockID, reason: reason) }
        }
        return all.sorted { ($0.openedMs, $0.lockID) < ($1.openedMs, $1.lockID) }
    }

    /// A clock stepped back keeps the window open; it never wraps.
    static func hasEnded(openedMs: Int64, atMs nowMs: Int64) -> Bool {
        let (elapsed, overflow) = nowMs.subtractingReportingOverflow(openedMs)
        return !overflow && elapsed >= windowMs
    }
}
