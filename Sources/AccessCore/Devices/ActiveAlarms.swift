import AccessProtocol

/// The site's open alarms, each with its id: raised, then cleared by the device's own report or
/// by an operator's acknowledgement. One open alarm per kind and device (or space): raising one
/// that is open replaces it, so the list is bounded by the inventory, and `limit` caps it anyway.
public struct ActiveAlarms: Sendable {
    public struct Entry: Sendable, Hashable {
        public var alarmID: String
        public var alarm: Alarm

        public init(alarmID: String, alarm: Alarm) {
            self.alarmID = alarmID
            self.alarm = alarm
        }
    }

    struct Key: Hashable {
        var kind: Alarm.Kind
        var lockID: String?
        var poleID: String?
        /// Alarms of a space without a device (none today) would be told apart by it.
        var spaceID: String?

        init(_ alarm: Alarm) {
            kind = alarm.kind
            lockID = alarm.lockID
            poleID = alarm.poleID
            spaceID = alarm.lockID == nil && alarm.poleID == nil ? alarm.spaceID : nil
        }
    }

    public static let defaultLimit = 10_000
    public let limit: Int
    private var byKey: [Key: Entry] = [:]
    private var keyByID: [String: Key] = [:]

    public init(limit: Int = ActiveAlarms.defaultLimit) {
        self.limit = max(1, limit)
    }

    public var count: Int { byKey.count }

    /// Oldest first.
    public var entries: [Entry] {
        byKey.values.sorted {
            ($0.alarm.timestampMs, $0.alarmID) < ($1.alarm.timestampMs, $1.alarmID)
        }
    }

    public func entry(alarmID: String) -> Entry? { keyByID[alarmID].flatMap { byKey[$0] } }

    /// Records a raised alarm. Returns the entry it replaced (the same kind on the same device,
    /// still open), and the oldest entry evicted when the list was full.
    @discardableResult
    public mutating func raised(_ alarm: Alarm, alarmID: String) -> (replaced: Entry?, evicted: Entry?) {
        let key = Key(alarm)
        let replaced = byKey[key]
        if let replaced { keyByID[replaced.alarmID] = nil }
        var evicted: Entry?
        if replaced == nil, byKey.count >= limit, let oldest = entries.first {
            byKey[Key(oldest.alarm)] = nil
            keyByID[oldest.alarmID] = nil
            evicted = oldest
        }
        byKey[key] = Entry(alarmID: alarmID, alarm: alarm)
        keyByID[alarmID] = key
        return (replaced, evicted)
    }

    /// The device's report ended the episode: the open entry of that kind, if any, is removed.
    public mutating func cleared(_ kind: Alarm.Kind, lockID: String?, poleID: String?) -> Entry? {
        let key = Key(Alarm(kind: kind, lockID: lockID, poleID: poleID, timestampMs: 0, detail: ""))
        guard let entry = byKey.removeValue(forKey: key) else { return nil }
        keyByID[entry.alarmID] = nil
        return entry
    }

    /// An operator acknowledged the alarm by its id.
    public mutating func acknowledged(alarmID: String) -> Entry? {
        guard let key = keyByID.removeValue(forKey: alarmID) else { return nil }
        return byKey.removeValue(forKey: key)
    }
}
