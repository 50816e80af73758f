/// QoS > 0 publishes that wait for the client: held while disconnected, or beyond the in-flight
/// limit while connected (`MQTTClient.Configuration.maximumInflight`).
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

    /// What `takeFirst` found at the front.
    enum Taken {
        /// Worth sending, its expiry reduced by the time it waited.
        case ready(Entry)
        /// Its expiry ran out while it waited: to be dropped and reported.
        case expired(Entry)
    }

    let capacity: Int
    /// Entries before `head` are taken; the array is compacted once they are the larger part.
    private var entries: [Entry] = []
    private var head = 0

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    var count: Int { entries.count - head }
    var isEmpty: Bool { count == 0 }

    mutating func enqueue(
        _ message: MQTTMessage, at now: ContinuousClock.Instant, waiterID: UInt64? = nil
    ) throws(MQTTError) {
        guard count < capacity else { throw .outboundQueueFull(capacity: capacity) }
        entries.append(Entry(message: message, enqueuedAt: now, waiterID: waiterID))
    }

    /// Puts messages that were sent but not acknowledged before a connection dropped back at the
    /// front, in their send order, aged from when they were sent. They may exceed `capacity`
    /// (new publishes are refused until the queue drains).
    mutating func requeueAtFront(_ requeued: [Entry]) {
        compact()
        entries.insert(contentsOf: requeued, at: 0)
    }

    /// Removes the front entry: ready (expiry reduced by the time waited) or expired.
    mutating func takeFirst(at now: ContinuousClock.Instant) -> Taken? {
        guard head < entries.count else { return nil }
        var entry = entries[head]
        head += 1
        if head > 1024 && head * 2 > entries.count { compact() }
        if let interval = entry.message.properties.messageExpiryInterval {
            let waited = Self.wholeSecondsRoundedUp(now - entry.enqueuedAt)
            if waited >= Int64(interval) { return .expired(entry) }
            entry.message.properties.messageExpiryInterval = interval - UInt32(waited)
        }
        return .ready(entry)
    }

    /// Empties the queue: the messages still worth sending, in order and with their expiry
    /// reduced by the time waited, and the ones that expired while waiting.
    mutating func drain(at now: ContinuousClock.Instant) -> (ready: [Entry], expired: [Entry]) {
        var ready: [Entry] = []
        var expired: [Entry] = []
        while let taken = takeFirst(at: now) {
            switch taken {
            case .ready(let entry): ready.append(entry)
            case .expired(let entry): expired.append(entry)
            }
        }
        entries.removeAll(keepingCapacity: false)
        head = 0
        return (ready, expired)
    }

    private mutating func compact() {
        guard head > 0 else { return }
        entries.removeFirst(head)
        head = 0
    }

    static func wholeSecondsRoundedUp(_ duration: Duration) -> Int64 {
        let parts = duration.components
        if parts.seconds < 0 { return 0 }
        return parts.seconds + (parts.attoseconds > 0 ? 1 : 0)
    }
}
