import AccessProtocol

/// PIN push for one lock, as a pure state machine: which reservations' PINs the lock should hold
/// now (those whose window, with grace, is open or opens within `aheadMs`), which slots to write,
/// clear, re-send or read, and when a lock that does not confirm is failing. The service only
/// performs the actions and stores the slots.
public struct PINSlotPlanner: Sendable {
    public enum Action: Sendable, Hashable {
        case write(slot: Int, reservation: Reservation)
        /// `reason`: why the PIN leaves the lock (`expired`, `cancelled`, `unknown_reservation`).
        case clear(slot: Int, reservationID: String?, reason: DecisionReason)
        case read(slot: Int)
        /// The lock has not confirmed this slot after `attempts` tries (raise `command_failed`).
        case failing(slot: Int, attempts: Int)
        /// Every slot is taken: this reservation's PIN is not in the lock.
        case noFreeSlot(reservationID: String)
    }

    public var slots: [Int: PINSlot]
    public let range: ClosedRange<Int>
    /// How long a write or clear may go unconfirmed before it is sent again.
    public static let confirmAfterMs: Int64 = 10_000
    /// Tries before `failing` (the tries go on, with backoff).
    public static let failingAfter = 3
    public static let maximumBackoffMs: Int64 = 300_000

    public init(range: ClosedRange<Int>, stored: [PINSlot]) {
        self.range = range
        var slots: [Int: PINSlot] = [:]
        for slot in range { slots[slot] = PINSlot(slot: slot) }
        // Slots outside a changed range are still cleared: the gateway wrote them.
        for slot in stored { slots[slot.slot] = slot }
        self.slots = slots
    }

    /// Whether a reservation's PIN belongs in the lock at `nowMs`: confirmed, not single use
    /// (the lock cannot spend it), window (with grace) open or opening within `aheadMs`.
    public static func wanted(_ reservation: Reservation, nowMs: Int64, aheadMs: Int64) -> Bool {
        reservation.status == .confirmed && !reservation.singleUse && nowMs >= reservation.windowStartMs - aheadMs
            && nowMs <= reservation.windowEndMs
    }

    /// One pass: `candidates` are the lock's space's reservations around now (the store's);
    /// `known` tells whether a reservation id still exists (for the clear's reason).
    public mutating func plan(candidates: [Reservation], nowMs: Int64, aheadMs: Int64) -> [Action] {
        var actions: [Action] = []
        let wanted = candidates.filter { Self.wanted($0, nowMs: nowMs, aheadMs: aheadMs) }
            .sorted { ($0.startMs, $0.id) < ($1.startMs, $1.id) }
        let byID = Dictionary(candidates.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let wantedIDs = Set(wanted.map(\.id))

        // Clear what no longer belongs (ended, cancelled, gone, or outside the range).
        for number in slots.keys.sorted() {
            guard var slot = slots[number], let id = slot.reservationID, slot.state != .clearing else { continue }
            if wantedIDs.contains(id) && range.contains(number) { continue }
            let reason: DecisionReason
            if let reservation = byID[id] {
                reason = reservation.status == .cancelled ? .cancelled : .expired
            } else {
                reason = .unknownReservation
            }
            slot.state = .clearing
            slot.attempts = 1
            slot.sentMs = nowMs
            slot.nextTryMs = nowMs + Self.confirmAfterMs
            slots[number] = slot
            actions.append(.clear(slot: number, reservationID: id, reason: reason))
        }

        // Write what should be there and is not.
        let held = Set(slots.values.compactMap { $0.state == .clearing ? nil : $0.reservationID })
        var free = range.filter { slots[$0]?.state == .free && slots[$0]?.reservationID == nil }
        for reservation in wanted where !held.contains(reservation.id) {
            guard !free.isEmpty else {
                actions.append(.noFreeSlot(reservationID: reservation.id))
                continue
            }
            let number = free.removeFirst()
            slots[number] = PINSlot(
                slot: number, reservationID: reservation.id, state: .pushing, attempts: 1, sentMs: nowMs,
                nextTryMs: nowMs + Self.confirmAfterMs)
            actions.append(.write(slot: number, reservation: reservation))
        }

        // Send again what went unconfirmed, with backoff.
        for number in slots.keys.sorted() {
            guard var slot = slots[number], slot.state == .pushing || slot.state == .clearing, nowMs >= slot.nextTryMs
            else { continue }
            if slot.state == .pushing, let id = slot.reservationID, let reservation = byID[id] {
                actions.append(.write(slot: number, reservation: reservation))
            } else {
                actions.append(.clear(slot: number, reservationID: slot.reservationID, reason: .expired))
            }
            slot.attempts += 1
            slot.sentMs = nowMs
            slot.nextTryMs = nowMs + Self.backoffMs(attempts: slot.attempts)
            if slot.attempts == Self.failingAfter + 1 {
                actions.append(.failing(slot: number, attempts: slot.attempts - 1))
            }
            slots[number] = slot
        }
        return actions
    }

    /// 10 s, 20 s, 40 s … up to 5 minutes.
    public static func backoffMs(attempts: Int) -> Int64 {
        let doublings = min(max(attempts - 1, 0), 5)
        return min(confirmAfterMs << Int64(doublings), maximumBackoffMs)
    }

    /// What the lock said of a slot (Zigbee2MQTT `users`). Returns what to do about it.
    public mutating func confirm(slot number: Int, status: String, nowMs: Int64) -> [Action] {
        guard var slot = slots[number] else { return [] }
        let enabled = status == "enabled"
        switch (slot.state, enabled) {
        case (.pushing, true), (.held, true):
            slot.state = .held
            slot.attempts = 0
            slot.nextTryMs = 0
        case (.clearing, false):
            slot = PINSlot(slot: number)
        case (.held, false):
            // The lock lost the PIN (reset, or cleared at the lock): write it again next pass.
            slot.state = .pushing
            slot.nextTryMs = nowMs
        case (.free, true):
            // A PIN the gateway did not write (or forgot) in a slot it owns: clear it.
            slot.state = .clearing
            slot.attempts = 1
            slot.sentMs = nowMs
            slot.nextTryMs = nowMs + Self.confirmAfterMs
            slots[number] = slot
            return [.clear(slot: number, reservationID: nil, reason: .unknownReservation)]
        default:
            return []
        }
        slots[number] = slot
        return []
    }

    /// After the lock comes back: read every slot the gateway wrote, so a lock that lost its
    /// table (or missed a clear) is put right.
    public func recheck() -> [Action] {
        slots.values.filter { $0.state != .free }.map(\.slot).sorted().map { .read(slot: $0) }
    }

    /// The slot a keypad open names, if the gateway filled it.
    public func reservationID(slot: Int) -> String? { slots[slot]?.reservationID }

    /// Slots worth storing (the free ones in range are implied).
    public var storedSlots: [PINSlot] {
        slots.values.filter { $0.state != .free || $0.reservationID != nil || !range.contains($0.slot) }
            .sorted { $0.slot < $1.slot }
    }
}
