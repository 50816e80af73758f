import AccessCore
import AccessEngine
import AccessProtocol
import AccessStore
import AccessTesting
import Testing

/// Booking messages applied idempotently by version: redelivered and out-of-order messages are safe.
@Suite struct BookingSyncTests {
    static let start: Int64 = 1_795_276_800_000
    static let booking = Reservation(
        id: "b-1", spaceID: "room-1", holder: "u-1", startMs: start, endMs: start + 3_600_000, version: 3)

    @Test func redeliveredAndOlderUpsertsChangeNothing() throws {
        let store = try TemporaryStore()
        #expect(try store.store.apply(.upsert(Self.booking), nowMs: 0) == .applied)
        #expect(try store.store.apply(.upsert(Self.booking), nowMs: 0) == .ignoredAsOlder)
        let older = with(Self.booking) {
            $0.version = 2; $0.holder = "u-old"
        }
        #expect(try store.store.apply(.upsert(older), nowMs: 0) == .ignoredAsOlder)
        #expect(try store.store.reservation(id: "b-1") == Self.booking)
        let newer = with(Self.booking) {
            $0.version = 4; $0.holder = "u-new"
        }
        #expect(try store.store.apply(.upsert(newer), nowMs: 0) == .applied)
        #expect(try store.store.reservation(id: "b-1")?.holder == "u-new")
    }

    @Test func aCancelForAnUnknownIdKeepsAnOlderUpsertCancelled() throws {
        let store = try TemporaryStore()
        #expect(try store.store.apply(.cancel(reservationID: "b-1", version: 4), nowMs: 0) == .applied)
        #expect(try store.store.tombstoneVersion(id: "b-1") == 4)
        #expect(try store.store.apply(.upsert(Self.booking), nowMs: 0) == .ignoredAsOlder)
        #expect(try store.store.tokenFacts(jti: "t", reservationID: "b-1").reservationTombstoned)
        #expect(try store.store.reservation(id: "b-1") == nil)
        let rebooked = with(Self.booking) { $0.version = 5 }
        #expect(try store.store.apply(.upsert(rebooked), nowMs: 0) == .applied)
        #expect(try store.store.tombstoneVersion(id: "b-1") == nil)
        #expect(try store.store.reservation(id: "b-1")?.status == .confirmed)
    }

    @Test func aCancelAppliesOnlyAboveTheStoredVersion() throws {
        let store = try TemporaryStore()
        try store.insert([Self.booking])
        #expect(try store.store.apply(.cancel(reservationID: "b-1", version: 3), nowMs: 0) == .ignoredAsOlder)
        #expect(try store.store.reservation(id: "b-1")?.status == .confirmed)
        #expect(try store.store.apply(.cancel(reservationID: "b-1", version: 4), nowMs: 0) == .applied)
        #expect(try store.store.reservation(id: "b-1")?.status == .cancelled)
        #expect(try store.store.apply(.upsert(with(Self.booking) { $0.version = 4 }), nowMs: 0) == .ignoredAsOlder)
        #expect(try store.store.reservation(id: "b-1")?.status == .cancelled)
    }

    @Test func revokeIsIdempotent() throws {
        let store = try TemporaryStore()
        #expect(try store.store.apply(.revoke(jti: "t-1"), nowMs: 0) == .applied)
        #expect(try store.store.apply(.revoke(jti: "t-1"), nowMs: 0) == .unchanged)
        #expect(try store.store.isRevoked(jti: "t-1"))
    }

    @Test func aSpentSingleUseReservationStaysSpentWhenRescheduled() async throws {
        let store = try TemporaryStore()
        let once = with(Self.booking) { $0.singleUse = true }
        try store.insert([once])
        let pin = store.testSite.pin(of: once)
        let payload = TestSite.requestPayload(requestID: "r-1", credential: .pin(pin))
        guard
            case .decided(let first) = await store.engine.handle(lockID: "lock-1", payload: payload, nowMs: Self.start)
        else { Issue.record("no decision"); return }
        #expect(first.decision.reason == .granted)
        let moved = with(once) {
            $0.version = 4; $0.startMs += 86_400_000; $0.endMs += 86_400_000
        }
        #expect(try store.store.apply(.upsert(moved), nowMs: 0) == .applied)
        #expect(try store.store.reservation(id: "b-1")?.spent == true)
        // A new engine (a restarted gateway) reads the spent flag from the file.
        let restarted = AccessEngine(
            store: store.store, auditLog: store.auditLog, configuration: store.testSite.engineConfiguration())
        let newPIN = store.testSite.pin(of: moved)
        let again = TestSite.requestPayload(requestID: "r-2", credential: .pin(newPIN))
        guard case .decided(let second) = await restarted.handle(lockID: "lock-1", payload: again, nowMs: moved.startMs)
        else { Issue.record("no decision"); return }
        #expect(second.decision.reason == .alreadyUsed)
    }

    @Test func reschedulingMovesThePINAndChangedPINSettingsRebuildTheIndex() throws {
        let store = try TemporaryStore()
        try store.insert([Self.booking])
        let oldPIN = store.testSite.pin(of: Self.booking)
        let moved = with(Self.booking) {
            $0.version = 4; $0.endMs += 1000
        }
        try store.insert([moved])
        #expect(try store.store.pinCandidates(spaceID: "room-1", pin: oldPIN).isEmpty)
        #expect(
            try store.store.pinCandidates(spaceID: "room-1", pin: store.testSite.pin(of: moved)).map(\.id) == ["b-1"])

        var sixDigits = AccessPolicy()
        sixDigits.pinDigits = 6
        let site6 = TestSite(policy: sixDigits)
        let reopened = try AccessStore(configuration: StoreConfiguration(path: store.path), pinIndex: site6.pinIndex)
        #expect(try reopened.pinCandidates(spaceID: "room-1", pin: site6.pin(of: moved)).map(\.id) == ["b-1"])
    }

    @Test func aStoreRefusesAnotherSite() throws {
        let store = try TemporaryStore()
        #expect(throws: StoreError.siteMismatch(stored: "site-1", configured: "site-2")) {
            try store.store.bindSite("site-2")
        }
    }
}
