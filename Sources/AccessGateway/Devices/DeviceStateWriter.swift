import AccessStore
import Synchronization

/// Device state for `accessctl devices`, coalesced per device and written in one transaction a
/// few times a second: however fast devices report, the store sees at most one row per device
/// per flush, and memory holds at most one pending state per device of the inventory.
final class DeviceStateWriter: Sendable {
    private struct Key: Hashable {
        var kind: String
        var id: String
    }

    private struct Pending {
        var states: [Key: AccessStore.DeviceState] = [:]
        var openAlarms: [Key: [String]] = [:]
        /// Raises and ends, in order; bounded (an episode raises once, so this is far above any
        /// real rate between two flushes), and what does not fit is counted.
        var alarmEvents: [AccessStore.AlarmEvent] = []
    }

    static let alarmEventLimit = 10_000
    /// Alarm history events that did not fit (the published alarms were not affected).
    let droppedAlarmEvents = Atomic<Int>(0)

    private let pending = Mutex(Pending())

    /// Merges a report: fields it leaves nil keep what is pending (and then what is stored).
    func record(_ state: AccessStore.DeviceState) {
        let key = Key(kind: state.kind, id: state.id)
        pending.withLock { pending in
            guard var merged = pending.states[key] else {
                pending.states[key] = state
                return
            }
            merged.online = state.online ?? merged.online
            merged.battery = state.battery ?? merged.battery
            merged.firmware = state.firmware ?? merged.firmware
            merged.rssi = state.rssi ?? merged.rssi
            merged.doorState = state.doorState ?? merged.doorState
            merged.lockState = state.lockState ?? merged.lockState
            merged.lastSeenMs = max(merged.lastSeenMs, state.lastSeenMs)
            pending.states[key] = merged
        }
    }

    func alarmEvent(_ event: AccessStore.AlarmEvent) {
        let kept = pending.withLock { pending -> Bool in
            guard pending.alarmEvents.count < Self.alarmEventLimit else { return false }
            pending.alarmEvents.append(event)
            return true
        }
        if !kept { droppedAlarmEvents.add(1, ordering: .relaxed) }
    }

    func openAlarms(kind: String, id: String, alarms: [String]) {
        pending.withLock { $0.openAlarms[Key(kind: kind, id: id)] = alarms }
    }

    /// Writes what is pending; on failure it is kept (merged under anything newer) for the next try.
    func flush(to store: AccessStore) async throws {
        let batch = pending.withLock { pending -> Pending in
            defer { pending = Pending() }
            return pending
        }
        do {
            try await store.recordDeviceStates(
                Array(batch.states.values),
                openAlarms: batch.openAlarms.map { .init(kind: $0.key.kind, id: $0.key.id, alarms: $0.value) },
                alarmEvents: batch.alarmEvents)
        } catch {
            pending.withLock { pending in
                for (key, state) in batch.states where pending.states[key] == nil { pending.states[key] = state }
                for (key, alarms) in batch.openAlarms where pending.openAlarms[key] == nil {
                    pending.openAlarms[key] = alarms
                }
                // Older events go first; the bound still holds, and what it cuts is counted.
                let events = batch.alarmEvents + pending.alarmEvents
                if events.count > Self.alarmEventLimit {
                    droppedAlarmEvents.add(events.count - Self.alarmEventLimit, ordering: .relaxed)
                }
                pending.alarmEvents = Array(events.suffix(Self.alarmEventLimit))
            }
            throw error
        }
    }
}
