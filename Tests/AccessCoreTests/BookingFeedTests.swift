import AccessCore
import AccessProtocol
import Testing

/// The booking feed's rules (contract v1.1), without I/O.
@Suite struct BookingFeedTests {
    @Test func inOrderMessagesNeverAsk() {
        var feed = BookingFeed(appliedSeq: 0, highestSeq: 0, lastMessageMs: nil)
        for seq in Int64(1)...5 { #expect(feed.applied(appliedSeq: seq, seq: seq, nowMs: seq) == nil) }
        #expect(!feed.isBehind && feed.lagMessages == 0)
    }

    @Test func aGapAsksOnceThenWithBackoffUntilClosed() {
        var feed = BookingFeed(appliedSeq: 3, highestSeq: 3, lastMessageMs: nil)
        // seq 6 arrives: 4 and 5 are missing.
        #expect(feed.applied(appliedSeq: 3, seq: 6, nowMs: 1_000) == .askReplay(after: 3))
        #expect(feed.lagMessages == 3)
        // Outstanding: no second ask before 5 s, then 10 s, then 20 s ... up to 60 s.
        #expect(feed.tick(nowMs: 5_999) == nil)
        #expect(feed.tick(nowMs: 6_000) == .askReplay(after: 3))
        #expect(feed.tick(nowMs: 15_999) == nil)
        #expect(feed.tick(nowMs: 16_000) == .askReplay(after: 3))
        var now: Int64 = 16_000
        for _ in 0..<6 { now += 60_000; _ = feed.tick(nowMs: now) }
        #expect(feed.tick(nowMs: now + 59_999) == nil)
        #expect(feed.tick(nowMs: now + 60_000) == .askReplay(after: 3))
        #expect(feed.lagSeconds(nowMs: now + 60_000) > 300)
        // The replay closes the gap: caught up, no more asks, the interval starts over.
        #expect(feed.applied(appliedSeq: 6, seq: 5, nowMs: now + 61_000) == nil)
        #expect(!feed.isBehind && feed.lagSeconds(nowMs: now + 62_000) == 0)
        #expect(feed.head(seq: 8, nowMs: now + 63_000) == .askReplay(after: 6))
        #expect(feed.tick(nowMs: now + 68_000) == .askReplay(after: 6))
    }

    @Test func aHeadAheadOfTheStoreAsksAndAHeadBehindDoesNot() {
        var feed = BookingFeed(appliedSeq: 10, highestSeq: 10, lastMessageMs: nil)
        #expect(feed.head(seq: 9, nowMs: 0) == nil)
        #expect(feed.head(seq: 10, nowMs: 0) == nil)
        #expect(feed.head(seq: 12, nowMs: 0) == .askReplay(after: 10))
    }

    @Test func v1MessagesWithoutSeqLeaveThePositionAlone() {
        var feed = BookingFeed(appliedSeq: 4, highestSeq: 4, lastMessageMs: nil)
        #expect(feed.applied(appliedSeq: 4, seq: nil, nowMs: 7) == nil)
        #expect(feed.appliedSeq == 4 && feed.lastMessageMs == 7)
    }

    /// A head far ahead of what the backend can replay ends in its resync, not in asking forever.
    @Test func aResyncBelowABogusHeadEndsTheAsking() {
        var feed = BookingFeed(appliedSeq: 2, highestSeq: 2, lastMessageMs: nil)
        #expect(feed.head(seq: 1_000_000_000, nowMs: 0) == .askReplay(after: 2))
        #expect(feed.resynced(appliedSeq: 40, seq: 40, nowMs: 1_000) == nil)
        #expect(!feed.isBehind && feed.tick(nowMs: 120_000) == nil)
    }
}
