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
}
