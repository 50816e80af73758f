/// QoS > 0 publishes made while disconnected, held until the next connection.
///
/// Bounded: a publish that finds it full is refused to its caller (`outboundQueueFull`), never
/// dropped silently. A message with a Message Expiry Interval ages while it waits: when it is
/// sent its interval is reduced by the whole seconds waited (rounded up), and one whose interval
/// has run out is dropped and reported instead of being delivered late.
struct PendingPublishQueue {
    struct Entry {
        var message: MQTTMessage
        var enqueuedAt: ContinuousClock.Instant
        /// Identifies a caller waiting for the broker's acknowledgement, if any.
        var waiterID: UInt64?
    }

    let capacity: Int
    private(set) var entries: [Entry] = []

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }

    mutating func enqueue(
        _ message: MQTTMessage, at now: ContinuousClock.Instant, waiterID: UInt64? = nil
    ) throws(MQTTError) {
        guard entries.count < capacity else { throw .outboundQueueFull(capacity: capacity) }
        entries.append(Entry(message: message, enqueuedAt: now, waiterID: waiterID))
    }

    /// Puts messages that were sent but not acknowledged before a connection dropped back at the
    /// front, in their send order, aged from when they were first sent. They may exceed
    /// `capacity` (new publishes are refused until the queue drains).
    mutating func requeueAtFront(_ requeued: [Entry]) {
        entries.insert(contentsOf: requeued, at: 0)
    }

    /// Empties the queue: the messages still worth sending, in order and with their expiry
    /// reduced by the time waited, and the ones that expired while waiting.
    mutating func drain(at now: ContinuousClock.Instant) -> (ready: [Entry], expired: [Entry]) {
        var ready: [Entry] = []
        var expired: [Entry] = []
        for var entry in entries {
            if let interval = entry.message.properties.messageExpiryInterval {
                let waited = Self.wholeSecondsRoundedUp(now - entry.enqueuedAt)
                if waited >= Int64(interval) {
                    expired.append(entry)
                    continue
                }
                entry.message.properties.messageExpiryInterval = interval - UInt32(waited)
            }
            ready.append(entry)
        }
        entries.removeAll(keepingCapacity: true)
        return (ready, expired)
    }

    static func wholeSecondsRoundedUp(_ duration: Duration) -> Int64 {
        let parts = duration.components
        if parts.seconds < 0 { return 0 }
        return parts.seconds + (parts.attoseconds > 0 ? 1 : 0)
    }
}
