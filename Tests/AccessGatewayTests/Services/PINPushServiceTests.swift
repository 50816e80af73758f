import AccessCore
import AccessGateway
import AccessGatewayTesting
import AccessProtocol
import AccessTesting
import Foundation
import MQTT
import MQTTTesting
import Synchronization
import Testing

/// PIN push in-process, on a clock the test moves: a Zigbee lock that never confirms its slot is
/// written again with backoff and raises `command_failed`; its confirmation ends the alarm.
struct PINPushServiceTests {
    final class Clock: Sendable {
        let offsetMs = Mutex<Int64>(0)
        func advance(seconds: Int64) { offsetMs.withLock { $0 += seconds * 1000 } }
        var now: Int64 { WallClock.nowMs() + offsetMs.withLock { $0 } }
    }

    @Test func aLockThatNeverConfirmsIsRetriedWithBackoffAndRaisesCommandFailedUntilItConfirms() async throws {
        let clock = Clock()
        let gateway = try await TestGateway(
            locks: ["lock-1@room-1 profile=zigbee2mqtt device=zl-1 slots=1-2", "lock-2@room-2", "lock-3@room-3"],
            nowMs: { clock.now })
        defer { Task { await gateway.stop() } }
        let now = clock.now / 1000 * 1000
        let booking = Reservation(
            id: "b-1", spaceID: "room-1", holder: "u-1", startMs: now - 60_000, endMs: now + 7_200_000, version: 1)
        #expect(gateway.book(.upsert(booking)) == "applied")
        let set = "zigbee2mqtt/zl-1/set"
        let pin = gateway.site.pin(of: booking)
        func writes() -> Int {
            gateway.published.messages(on: set).filter { $0.payloadString?.contains(pin) == true }.count
        }

        // Generous waits: on a loaded 2-core machine a pass can be late; the clock only moves when
        // the test moves it, so a count can never overshoot.
        #expect(await eventually(timeout: .seconds(30)) { writes() == 1 })
        #expect(gateway.published.messages(on: "zigbee2mqtt/zl-1/get").count >= 1, "each write is read back")
        // Unconfirmed: sent again after 10 s, then 20 s, then 40 s; the third unconfirmed try alarms.
        for (seconds, expected) in [(11, 2), (21, 3), (41, 4)] as [(Int64, Int)] {
            clock.advance(seconds: seconds)
            #expect(await eventually(timeout: .seconds(30)) { writes() == expected }, "\(writes()) writes")
        }
        let alarm = await gateway.published.first(timeout: .seconds(30)) { $0.topic == gateway.topics.alarms }
        let fields = try #require(alarm.flatMap { TestGateway.json($0.payload) })
        #expect(fields["type"] as? String == "command_failed" && fields["lockId"] as? String == "lock-1")
        #expect((fields["detail"] as? String)?.contains("PIN slot 1 not confirmed") == true)
        #expect(!(alarm?.payloadString?.contains(pin) ?? true), "no PIN in an alarm")

        // The lock says the slot holds it: the episode ends.
        gateway.receive("zigbee2mqtt/zl-1", #"{"users":{"1":{"status":"enabled"}}}"#)
        let cleared = await gateway.published.first(timeout: .seconds(30)) {
            $0.topic == gateway.topics.clearedAlarms && $0.payloadString?.contains("command_failed") == true
        }
        #expect(cleared != nil)
        // The slot map is stored after the pass that confirmed it.
        let stored = await eventually(timeout: .seconds(30)) {
            let slots = (try? gateway.temporary.store.pinSlots(lockID: "lock-1")) ?? []
            return slots.map(\.state) == [.held] && slots.first?.reservationID == "b-1"
        }
        #expect(stored)
    }

    /// A keypad open the lock reports is audited once; the same state retained (Zigbee2MQTT can
    /// retain a device's state) is an old one: its lock state counts, its action is not audited again.
    @Test func aKeypadOpenIsAuditedOnceAndARetainedOneNever() async throws {
        let gateway = try await TestGateway(
            locks: ["lock-1@room-1 profile=zigbee2mqtt device=zl-1 slots=1-2", "lock-2@room-2", "lock-3@room-3"])
        defer { Task { await gateway.stop() } }
        let open = #"{"action":"unlock","action_source_name":"keypad","action_user":1,"lock_state":"unlocked"}"#
        func keypadOpens() -> Int {
            ((try? gateway.temporary.store.auditRecords(limit: 100, newest: true)) ?? []).filter {
                $0.record.event == "keypad_open"
            }.count
        }
        gateway.receive("zigbee2mqtt/zl-1", open, retain: true)
        gateway.receive("zigbee2mqtt/zl-1", #"{"battery":77}"#, retain: true)
        let stateCounted = await eventually(timeout: .seconds(30)) {
            let states = (try? gateway.temporary.store.deviceStates()) ?? []
            return states.contains { $0.id == "lock-1" && $0.battery == 77 && $0.lockState == "unlocked" }
        }
        #expect(stateCounted, "a retained state still counts")
        try await Task.sleep(for: .seconds(2))
        #expect(keypadOpens() == 0)
        gateway.receive("zigbee2mqtt/zl-1", open)
        #expect(await eventually(timeout: .seconds(30)) { keypadOpens() == 1 })
        let record = try #require(try gateway.temporary.store.auditRecords(limit: 1, newest: true).first?.record)
        #expect(record.granted && record.note?.contains("slot not filled by the gateway") == true)
    }
}
