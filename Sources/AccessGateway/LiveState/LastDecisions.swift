import AccessCore
import AccessProtocol

/// Each lock's last decision, for its live state: 16 bytes per lock of the inventory, in the
/// inventory's order (a `[String: LastDecision]` took 48 bytes a bucket, 12.6 MB at 100k locks,
/// and twice that while it grew). Reasons are a few dozen fixed strings, kept once each.
/// Decisions for ids that are not in the inventory are not kept: they have no live state.
struct LastDecisions: Sendable {
    struct Entry: Sendable {
        /// `Int64.min` until the lock's first decision.
        var timestampMs = Int64.min
        var reason: UInt16 = 0
        var granted = false
    }

    /// More distinct reasons than this are not kept (the contract has about twenty).
    static let reasonLimit = 256

    private(set) var inventory: LockInventory
    private var entries: [Entry]
    private var reasons: [String] = []
    private var reasonCodes: [String: UInt16] = [:]

    init(inventory: LockInventory) {
        self.inventory = inventory
        entries = Array(repeating: Entry(), count: inventory.count)
    }

    mutating func record(lockID: String, granted: Bool, reason: String, timestampMs: Int64) {
        guard let index = inventory.index(of: lockID), let code = code(for: reason) else { return }
        entries[index] = Entry(timestampMs: timestampMs, reason: code, granted: granted)
    }

    func last(lockID: String) -> LiveStateMessages.LastDecision? {
        guard let index = inventory.index(of: lockID) else { return nil }
        let entry = entries[index]
        guard entry.timestampMs != .min, Int(entry.reason) < reasons.count else { return nil }
        return .init(granted: entry.granted, reason: reasons[Int(entry.reason)], timestampMs: entry.timestampMs)
    }

    /// A reload: locks still in the inventory keep their last decision.
    mutating func replaceInventory(_ new: LockInventory) {
        entries = inventory.carry(entries, to: new, fresh: Entry())
        inventory = new
    }

    private mutating func code(for reason: String) -> UInt16? {
        if let code = reasonCodes[reason] { return code }
        guard reasons.count < Self.reasonLimit else { return nil }
        let code = UInt16(reasons.count)
        reasons.append(reason)
        reasonCodes[reason] = code
        return code
    }
}
