import AccessCore
import AccessProtocol
import AccessTesting
import Foundation
import GRDB
import Testing

@testable import AccessStore

/// A decision's lookups read on connections of their own (`LookupReaders`), with statements
/// prepared once: they must see every commit at once (a cancel is never missed), never hold the
/// WAL, and never wait when every such connection is busy.
@Suite struct LookupReaderTests {
    static let booking = AccessEngineTests.booking

    @Test func aLookupSeesTheCommitsMadeAfterItsStatementWasPrepared() throws {
        let store = try TemporaryStore()
        let pin = store.testSite.pin(of: Self.booking)
        // The first lookup opens a connection and prepares its statement, before the booking exists.
        #expect(try store.store.pinCandidates(spaceID: "room-1", pin: pin).isEmpty)
        #expect(store.store.lookupReaders.openedCount == 1)
        try store.insert([Self.booking])
        #expect(try store.store.pinCandidates(spaceID: "room-1", pin: pin).map(\.id) == ["b-77"])
        _ = try store.store.apply(.cancel(reservationID: "b-77", version: 4), nowMs: 0)
        #expect(try store.store.pinCandidates(spaceID: "room-1", pin: pin).map(\.status) == [.cancelled])
        // The token lookup, on the same connection.
        let facts = try store.store.tokenFacts(jti: "t-1", reservationID: "b-77")
        #expect(facts.reservation?.status == .cancelled && !facts.jtiRevoked)
        #expect(store.store.lookupReaders.openedCount == 1)
    }

    @Test func aLookupWithEveryConnectionBusyReadsThroughThePool() throws {
        let temporary = try TemporaryStore()
        try temporary.insert([Self.booking])
        // A second store on the same file, with a single lookup connection.
        let store = try AccessStore(
            configuration: StoreConfiguration(path: temporary.path, maximumReaders: 1),
            pinIndex: temporary.testSite.pinIndex)
        let pin = temporary.testSite.pin(of: Self.booking)
        // The only lookup connection is taken: the lookup inside reads through the pool.
        let inner = try store.lookupReaders.read { _, _ in try store.pinCandidates(spaceID: "room-1", pin: pin) }
        #expect(inner?.map(\.id) == ["b-77"])
        #expect(store.lookupReaders.openedCount == 1)
    }

    @Test func lookupsLeaveNothingThatHoldsTheWAL() throws {
        let store = try TemporaryStore()
        try store.insert([Self.booking])
        let pin = store.testSite.pin(of: Self.booking)
        for _ in 0..<3 {
            _ = try store.store.pinCandidates(spaceID: "room-1", pin: pin)
            _ = try store.store.tokenFacts(jti: "t-1", reservationID: "b-77")
        }
        // A truncating checkpoint waits for no reader: it empties the WAL.
        _ = try store.store.pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
        let wal = try FileManager.default.attributesOfItem(atPath: store.path + "-wal")[.size] as? Int
        #expect(wal == 0)
    }

    /// The lookups read SQLite's columns themselves (`LookupQuery`): the same reservation as
    /// GRDB's records give, every field, and the token's facts.
    @Test func aLookupReadsEveryColumnAsThePoolDoes() throws {
        let store = try TemporaryStore()
        let booking = with(Self.booking) {
            $0.singleUse = true
            $0.graceBeforeS = 7
            $0.graceAfterS = 11
        }
        try store.insert([booking])
        let pin = store.testSite.pin(of: booking)
        let stored = try #require(try store.store.reservation(id: "b-77"))
        #expect(try store.store.pinCandidates(spaceID: "room-1", pin: pin) == [stored])
        #expect(try store.store.pinCandidates(spaceID: "room-2", pin: pin).isEmpty)
        #expect(try store.store.pinCandidates(spaceID: "room-1", pin: "12345678").isEmpty)
        let facts = try store.store.tokenFacts(jti: "t-1", reservationID: "b-77")
        #expect(facts.reservation == stored && !facts.jtiRevoked && !facts.reservationTombstoned)

        _ = try store.store.apply(.revoke(jti: "t-1"), nowMs: 0)
        _ = try store.store.apply(.cancel(reservationID: "b-unknown", version: 1), nowMs: 0)
        #expect(try store.store.tokenFacts(jti: "t-1", reservationID: "b-77").jtiRevoked)
        let gone = try store.store.tokenFacts(jti: "t-2", reservationID: "b-unknown")
        #expect(gone.reservation == nil && gone.reservationTombstoned && !gone.jtiRevoked)
    }

    /// A row no sound store holds is an error naming it, never a crash or a guess.
    @Test func aCorruptRowIsAnError() throws {
        let store = try TemporaryStore()
        try store.insert([Self.booking])
        let pin = store.testSite.pin(of: Self.booking)
        // Past the table's own CHECK, as a damaged or hand-edited file could be.
        try store.store.pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA ignore_check_constraints = ON")
            try db.execute(sql: "UPDATE reservations SET status = 'maybe'")
            try db.execute(sql: "PRAGMA ignore_check_constraints = OFF")
        }
        #expect(throws: StoreError.self) { try store.store.pinCandidates(spaceID: "room-1", pin: pin) }
        #expect(throws: StoreError.self) { try store.store.tokenFacts(jti: "t-1", reservationID: "b-77") }
    }
}
