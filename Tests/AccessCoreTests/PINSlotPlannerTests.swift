import AccessCore
import AccessProtocol
import Testing

/// PIN push as a state machine, without I/O.
struct PINSlotPlannerTests {
    static let now: Int64 = 1_800_000_000_000
    static let aheadMs: Int64 = 3_600_000

    static func reservation(_ id: String, startIn: Int64, endIn: Int64, status: ReservationStatus = .confirmed)
        -> Reservation
    {
        Reservation(
            id: id, spaceID: "room-1", holder: "u-\(id)", startMs: now + startIn, endMs: now + endIn, status: status,
            version: 1)
    }

    @Test func writesAheadOfTheWindowAndClearsWhenItEndsOrIsCancelled() {
        var planner = PINSlotPlanner(range: 1...3, stored: [])
        let now = Self.now
        let current = Self.reservation("a", startIn: -60_000, endIn: 60_000)
        let soon = Self.reservation("b", startIn: 1_800_000, endIn: 3_600_000)
        let far = Self.reservation("c", startIn: 7_200_000, endIn: 9_000_000)
        let actions = planner.plan(candidates: [far, soon, current], nowMs: now, aheadMs: Self.aheadMs)
        #expect(actions == [.write(slot: 1, reservation: current), .write(slot: 2, reservation: soon)])
        _ = planner.confirm(slot: 1, status: "enabled", nowMs: now)
        _ = planner.confirm(slot: 2, status: "enabled", nowMs: now)
        #expect(planner.plan(candidates: [far, soon, current], nowMs: now + 1000, aheadMs: Self.aheadMs) == [])

        // Cancelled: cleared with that reason; ended: cleared as expired.
        var cancelled = soon
        cancelled.status = .cancelled
        let later = now + 61_000
        #expect(
            planner.plan(candidates: [current, cancelled], nowMs: later, aheadMs: Self.aheadMs) == [
                .clear(slot: 1, reservationID: "a", reason: .expired),
                .clear(slot: 2, reservationID: "b", reason: .cancelled),
            ])
        _ = planner.confirm(slot: 1, status: "available", nowMs: later)
        #expect(planner.slots[1] == PINSlot(slot: 1))
        #expect(planner.storedSlots.map(\.slot) == [2], "slot 2 is still being cleared")
    }

    @Test func anUnconfirmedWriteIsSentAgainWithBackoffAndFailsAfterThreeTries() {
        var planner = PINSlotPlanner(range: 1...1, stored: [])
        let booking = Self.reservation("a", startIn: -60_000, endIn: 3_600_000)
        var now = Self.now
        #expect(planner.plan(candidates: [booking], nowMs: now, aheadMs: Self.aheadMs).count == 1)
        var sends = 1
        var failing: [PINSlotPlanner.Action] = []
        for _ in 0..<400 {
            now += 1000
            let actions = planner.plan(candidates: [booking], nowMs: now, aheadMs: Self.aheadMs)
            sends += actions.filter { if case .write = $0 { true } else { false } }.count
            failing += actions.filter { if case .failing = $0 { true } else { false } }
        }
        // 10 s, 20 s, 40 s, 80 s, 160 s apart within 400 s: 5 more sends; failing once, at the 4th.
        #expect(sends == 6)
        #expect(failing == [.failing(slot: 1, attempts: 3)])
        _ = planner.confirm(slot: 1, status: "enabled", nowMs: now)
        #expect(planner.slots[1]?.state == .held && planner.slots[1]?.attempts == 0)
    }

    @Test func aLockThatLostItsTableIsWrittenAgainAndAStrangePINInAnOwnedSlotIsCleared() {
        var planner = PINSlotPlanner(
            range: 1...2, stored: [PINSlot(slot: 1, reservationID: "a", state: .held)])
        let booking = Self.reservation("a", startIn: -60_000, endIn: 3_600_000)
        #expect(planner.recheck() == [.read(slot: 1)])
        _ = planner.confirm(slot: 1, status: "available", nowMs: Self.now)
        #expect(
            planner.plan(candidates: [booking], nowMs: Self.now, aheadMs: Self.aheadMs) == [
                .write(slot: 1, reservation: booking)
            ])
        #expect(
            planner.confirm(slot: 2, status: "enabled", nowMs: Self.now) == [
                .clear(slot: 2, reservationID: nil, reason: .unknownReservation)
            ])
    }

    @Test func singleUseReservationsAreNeverPushedAndAFullTableSaysSo() {
        var planner = PINSlotPlanner(range: 1...1, stored: [])
        var once = Self.reservation("a", startIn: -60_000, endIn: 60_000)
        once.singleUse = true
        let other = Self.reservation("b", startIn: -60_000, endIn: 60_000)
        let third = Self.reservation("c", startIn: -30_000, endIn: 60_000)
        #expect(
            planner.plan(candidates: [once, other, third], nowMs: Self.now, aheadMs: Self.aheadMs) == [
                .write(slot: 1, reservation: other), .noFreeSlot(reservationID: "c"),
            ])
    }
}
