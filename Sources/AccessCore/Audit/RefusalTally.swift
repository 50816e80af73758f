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

    struct Key: Hashable {
        var lockID: String
        var reason: DecisionReason
    }

    private var windows: [Key: Window] = [:]

    public init() {}

    /// Windows open now.
    public var openCount: Int { windows.count }

    /// Counts one refusal at `nowMs`. Returns the lock's previous window of this reason when it
    /// had ended (its record is due), after which this refusal opens a new one.
    public mutating func count(lockID: String, reason: DecisionReason, nowMs: Int64) -> Window? {
        let key = Key(lockID: lockID, reason: reason)
        var closed: Window?
        if var window = windows[key] {
            if !Self.hasEnded(window, atMs: nowMs) {
                window.count += 1
                window.lastMs = max(window.lastMs, nowMs)
                windows[key] = window
                return nil
            }
            closed = window
        }
        windows[key] = Window(lockID: lockID, reason: reason, openedMs: nowMs, lastMs: nowMs, count: 1)
        return closed
    }

    /// Removes and returns the windows that have ended by `nowMs`, oldest first.
    public mutating func closeEnded(nowMs: Int64) -> [Window] {
        let ended = windows.filter { Self.hasEnded($0.value, atMs: nowMs) }
        for key in ended.keys { windows[key] = nil }
        windows.refitWhenMostlyEmpty()  // after an overload over many locks
        return ended.values.sorted { ($0.openedMs, $0.lockID) < ($1.openedMs, $1.lockID) }
    }

    /// Removes and returns every open window (at shutdown: committed early rather than lost).
    public mutating func closeAll() -> [Window] {
        defer { windows = [:] }
        return windows.values.sorted { ($0.openedMs, $0.lockID) < ($1.openedMs, $1.lockID) }
    }

    /// A clock stepped back keeps the window open; it never wraps.
    static func hasEnded(_ window: Window, atMs nowMs: Int64) -> Bool {
        let (elapsed, overflow) = nowMs.subtractingReportingOverflow(window.openedMs)
        return !overflow && elapsed >= windowMs
    }
}
