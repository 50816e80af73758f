import AccessProtocol

/// The gateway's view of the booking feed (contract v1.1, "Feed sequence, head and replay"),
/// pure: what is applied, what the backend says it has, whether and when to ask for a replay.
/// The store keeps `appliedSeq` (with the messages it covers); this keeps the rest in memory.
public struct BookingFeed: Sendable, Hashable {
    public static let firstAskIntervalMs: Int64 = 5_000
    public static let maximumAskIntervalMs: Int64 = 60_000

    public enum Action: Sendable, Hashable {
        /// Publish a replay request for every message after `after`.
        case askReplay(after: Int64)
    }

    /// Every message up to here is applied (from the store).
    public private(set) var appliedSeq: Int64
    /// The highest `seq` seen on either topic, or in the head.
    public private(set) var knownSeq: Int64
    /// When the newest message was applied, and when the gateway first saw itself behind.
    public private(set) var lastMessageMs: Int64?
    public private(set) var behindSinceMs: Int64?
    private var lastAskMs: Int64?
    private var askIntervalMs = BookingFeed.firstAskIntervalMs

    public init(appliedSeq: Int64, highestSeq: Int64, lastMessageMs: Int64?) {
        self.appliedSeq = appliedSeq
        self.knownSeq = max(appliedSeq, highestSeq)
        self.lastMessageMs = lastMessageMs
    }

    public var isBehind: Bool { knownSeq > appliedSeq }
    /// Messages the gateway knows it has not applied.
    public var lagMessages: Int64 { max(0, knownSeq - appliedSeq) }

    public func lagSeconds(nowMs: Int64) -> Int64 {
        guard let since = behindSinceMs else { return 0 }
        return max(0, nowMs - since) / 1000
    }

    /// A message was applied (the store's position after it); `seq` is the message's own.
    public mutating func applied(appliedSeq: Int64, seq: Int64?, nowMs: Int64) -> Action? {
        self.appliedSeq = appliedSeq
        if let seq { knownSeq = max(knownSeq, seq) }
        lastMessageMs = nowMs
        return settle(nowMs: nowMs)
    }

    /// The backend answered with a full republication ending at `seq`: what it says it has is the
    /// truth, so a head seen earlier that was further ahead (bogus, or from a backend that lost
    /// its feed) no longer keeps the gateway asking.
    public mutating func resynced(appliedSeq: Int64, seq: Int64, nowMs: Int64) -> Action? {
        self.appliedSeq = appliedSeq
        knownSeq = max(appliedSeq, seq)
        lastMessageMs = nowMs
        return settle(nowMs: nowMs)
    }

    /// The retained head arrived (at every connect) or changed.
    public mutating func head(seq: Int64, nowMs: Int64) -> Action? {
        knownSeq = max(knownSeq, seq)
        return settle(nowMs: nowMs)
    }

    /// Once a second: asks again when an ask went unanswered for its interval.
    public mutating func tick(nowMs: Int64) -> Action? {
        settle(nowMs: nowMs)
    }

    /// Behind: ask now unless an ask is outstanding (sent less than its interval ago); the
    /// interval starts at 5 s and doubles up to 60 s. Caught up: forget the asking.
    private mutating func settle(nowMs: Int64) -> Action? {
        guard isBehind else {
            behindSinceMs = nil
            lastAskMs = nil
            askIntervalMs = Self.firstAskIntervalMs
            return nil
        }
        if behindSinceMs == nil { behindSinceMs = nowMs }
        if let last = lastAskMs {
            guard nowMs - last >= askIntervalMs else { return nil }
            askIntervalMs = min(askIntervalMs * 2, Self.maximumAskIntervalMs)
        }
        lastAskMs = nowMs
        return .askReplay(after: appliedSeq)
    }
}
