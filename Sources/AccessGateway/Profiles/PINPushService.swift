import AccessCore
import AccessProtocol
import Logging
import MQTT
import ServiceLifecycle
import Synchronization

/// PIN push for Zigbee locks with `slots`: each second, for each such lock, the planner says
/// which reservations' PINs the lock should hold (their window, with grace, open or opening
/// within `profiles.pinPushAheadMin`), and the service writes and clears slots through
/// Zigbee2MQTT, reads each back to confirm it, re-sends with backoff what is not confirmed
/// (raising `command_failed` after three tries), stores the slot map, and audits every write,
/// clear and keypad open before it is sent. The lock then admits holders on its own keypad even
/// while the gateway or the network is down.
public final class PINPushService: Service, Sendable {
    let context: GatewayContext
    private let planners = Mutex<[String: PINSlotPlanner]>([:])

    init(context: GatewayContext) {
        self.context = context
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.pass()
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// One pass over every pushing lock (tests call it directly).
    func pass() async {
        let inbox = context.pinPushInbox.take()
        if inbox.dropped > 0 {
            context.logger.warning("PIN push inbox overflowed", metadata: ["dropped": "\(inbox.dropped)"])
        }
        let site = context.settings.site
        let locks = site.locks.values.filter { $0.profile == .zigbee2mqtt && $0.pinSlots != nil && $0.device != nil }
            .sorted { $0.id < $1.id }
        let pushing = Set(locks.map(\.id))
        planners.withLock { planners in planners = planners.filter { pushing.contains($0.key) } }
        context.pendingUnlocks.forget(keeping: Set(site.locks.keys))
        for (lockID, open) in inbox.keypadOpens {
            await auditKeypadOpen(lockID: lockID, open: open)
        }
        for lock in locks {
            await pass(lock, inbox: inbox)
        }
    }

    private func pass(_ lock: Lock, inbox: PINPushInbox.Contents) async {
        guard let range = lock.pinSlots, let device = lock.device else { return }
        let nowMs = context.nowMs()
        var planner: PINSlotPlanner
        if let known = planners.withLock({ $0[lock.id] }), known.range == range {
            planner = known
        } else {
            do {
                planner = PINSlotPlanner(range: range, stored: try context.store.pinSlots(lockID: lock.id))
            } catch {
                context.logger.error("PIN slots unreadable", metadata: ["lock": "\(lock.id)", "error": "\(error)"])
                return
            }
        }
        let before = planner.storedSlots
        var actions: [PINSlotPlanner.Action] = []
        for (lockID, statuses) in inbox.slotReads where lockID == lock.id {
            for (slot, status) in statuses.sorted(by: { $0.key < $1.key }) {
                actions += planner.confirm(slot: slot, status: status, nowMs: nowMs)
            }
        }
        if inbox.reconnected.contains(lock.id) { actions += planner.recheck() }
        let aheadMs = Int64(context.settings.configuration.profiles.pinPushAheadMin) * 60_000
        do {
            var candidates = try context.store.reservations(
                spaceID: lock.spaceID, openingBy: nowMs + aheadMs, endingAfter: nowMs)
            let known = Set(candidates.map(\.id))
            let slotted = planner.slots.values.compactMap(\.reservationID).filter { !known.contains($0) }
            candidates += try context.store.reservations(ids: slotted)
            actions += planner.plan(candidates: candidates, nowMs: nowMs, aheadMs: aheadMs)
        } catch {
            // Without the store nothing new is pushed; what the lock holds stays until it can say.
            context.logger.error("PIN push: store unreadable", metadata: ["lock": "\(lock.id)", "error": "\(error)"])
            return
        }
        for action in actions {
            await perform(action, lock: lock, device: device, nowMs: nowMs)
        }
        if planner.slots.values.allSatisfy({ $0.state == .free || $0.state == .held }) {
            context.monitor.update { $0.slotWritesConfirmed(lockID: lock.id) }
        }
        let after = planner.storedSlots
        if after != before {
            do { try context.store.savePINSlots(after, lockID: lock.id) } catch {
                context.logger.error("PIN slots not stored", metadata: ["lock": "\(lock.id)", "error": "\(error)"])
            }
        }
        planners.withLock { $0[lock.id] = planner }
    }

    private func perform(_ action: PINSlotPlanner.Action, lock: Lock, device: String, nowMs: Int64) async {
        let topics = context.settings.profileTopics
        switch action {
        case .write(let slot, let reservation):
            let pin = context.engine.currentConfiguration.pins.pin(
                spaceID: reservation.spaceID, reservationID: reservation.id, startUnixS: reservation.startUnixS,
                endUnixS: reservation.endUnixS)
            // Audited (and synced) before the PIN leaves: a write is a grant to the lock's keypad.
            guard
                await audit(
                    lock: lock, reservation: reservation, granted: true, reason: .granted, event: "pin_slot_set",
                    note: "slot \(slot), until \(RFC3339.format(reservation.windowEndMs))", nowMs: nowMs)
            else { return }
            send(topics.zigbeeSet(device: device), ProfileCommands.zigbeeSetPIN(slot: slot, pin: pin))
            send(topics.zigbeeGet(device: device), ProfileCommands.zigbeeReadPIN(slot: slot))
        case .clear(let slot, let reservationID, let reason):
            let reservation = reservationID.flatMap { try? context.store.reservation(id: $0) }
            guard
                await audit(
                    lock: lock, reservation: reservation, reservationID: reservationID, granted: false, reason: reason,
                    event: "pin_slot_cleared", note: "slot \(slot)", nowMs: nowMs)
            else { return }
            send(topics.zigbeeSet(device: device), ProfileCommands.zigbeeClearPIN(slot: slot))
            send(topics.zigbeeGet(device: device), ProfileCommands.zigbeeReadPIN(slot: slot))
        case .read(let slot):
            send(topics.zigbeeGet(device: device), ProfileCommands.zigbeeReadPIN(slot: slot))
        case .failing(let slot, let attempts):
            context.logger.warning(
                "PIN slot not confirmed by the lock",
                metadata: ["lock": "\(lock.id)", "slot": "\(slot)", "tries": "\(attempts)"])
            context.monitor.update {
                $0.slotWriteFailing(
                    lockID: lock.id,
                    detail: "PIN slot \(slot) not confirmed after \(attempts) tries (retrying with backoff)",
                    nowMs: nowMs)
            }
        case .noFreeSlot(let reservationID):
            context.logger.warning(
                "PIN push: every slot is taken", metadata: ["lock": "\(lock.id)", "reservation": "\(reservationID)"])
        }
    }

    /// The lock opened by itself for a slot: audited with the slot's reservation, if the gateway
    /// filled it (the note says so when it did not).
    private func auditKeypadOpen(lockID: String, open: ProfileReading.KeypadOpen) async {
        guard let lock = context.settings.site.locks[lockID] else { return }
        let reservationID = planners.withLock { $0[lockID]?.reservationID(slot: open.slot) }
        let reservation = reservationID.flatMap { try? context.store.reservation(id: $0) }
        let note = reservationID == nil ? "\(open.description); slot not filled by the gateway" : open.description
        _ = await audit(
            lock: lock, reservation: reservation, reservationID: reservationID, granted: true, reason: .granted,
            event: "keypad_open", note: note, nowMs: context.nowMs())
    }

    private func audit(
        lock: Lock, reservation: Reservation?, reservationID: String? = nil, granted: Bool, reason: DecisionReason,
        event: String, note: String, nowMs: Int64
    ) async -> Bool {
        let record = AuditRecord(
            timestampMs: nowMs, gatewayID: context.gatewayID, lockID: lock.id, credentialType: "pin",
            reservationID: reservation?.id ?? reservationID, holder: reservation?.holder, granted: granted,
            reason: reason, note: note, event: event)
        do {
            _ = try await context.engine.appendEvent(record)
            return true
        } catch {
            context.logger.error(
                "PIN push: audit failed, nothing sent", metadata: ["lock": "\(lock.id)", "error": "\(error)"])
            return false
        }
    }

    private func send(_ topic: String, _ payload: String) {
        context.publish(MQTTMessage(topic: topic, payload: Array(payload.utf8)))
    }
}
