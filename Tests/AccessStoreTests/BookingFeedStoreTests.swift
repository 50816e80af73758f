import AccessCore
import AccessProtocol
import AccessStore
import AccessTesting
import Testing

/// `appliedSeq` moves in the transaction of the messages it covers (contract v1.1).
@Suite struct BookingFeedStoreTests {
    static func upsert(_ index: Int, version: Int64 = 1) -> BookingMessage {
        .upsert(
            Reservation(
                id: "b-\(index)", spaceID: "room-1", holder: "u-1", startMs: 1_000_000, endMs: 2_000_000,
                version: version))
    }

    @Test func aGapHoldsThePositionUntilTheMissingMessageIsApplied() throws {
        let store = try TemporaryStore()
        #expect(try store.store.applyFeed(Self.upsert(1), seq: 1, nowMs: 0).position.appliedSeq == 1)
        // 2 is missed; 3 and 4 are applied but the position stays at 1.
        #expect(try store.store.applyFeed(Self.upsert(3), seq: 3, nowMs: 0).position.appliedSeq == 1)
        let ahead = try store.store.applyFeed(Self.upsert(4), seq: 4, nowMs: 0).position
        #expect(ahead.appliedSeq == 1 && ahead.highestSeq == 4)
        #expect(try store.store.reservationCount() == 3)
        // The replay brings 2: the position closes over 3 and 4.
        #expect(try store.store.applyFeed(Self.upsert(2), seq: 2, nowMs: 0).position.appliedSeq == 4)
        // Redelivered, duplicated, out of order: applied once by the version rule, position kept.
        let again = try store.store.applyFeed(Self.upsert(3), seq: 3, nowMs: 0)
        #expect(again.outcome == .ignoredAsOlder && again.position.appliedSeq == 4)
    }

    @Test func aResyncSetsThePositionOnlyForwardAndV1MessagesLeaveItAlone() throws {
        let store = try TemporaryStore()
        _ = try store.store.applyFeed(Self.upsert(1), seq: 1, nowMs: 0)
        _ = try store.store.applyFeed(Self.upsert(5), seq: 5, nowMs: 0)
        #expect(try store.store.applyFeed(Self.upsert(9), seq: nil, nowMs: 0).position.appliedSeq == 1)
        #expect(try store.store.applyFeed(.resync(seq: 7), seq: 7, nowMs: 0).position.appliedSeq == 7)
        #expect(try store.store.applyFeed(.resync(seq: 3), seq: 3, nowMs: 0).position.appliedSeq == 7)
        #expect(try store.store.bookingFeedPosition().highestSeq == 7)
    }
}
