import AccessCore
import AccessGateway
import AccessGatewayTesting
import AccessProtocol
import AccessTesting
import MQTT
import Testing

/// The device-report service in-process: alarms from events, statuses coalesced per device,
/// bad and unknown reports dropped, device state written in batches.
@Suite struct DeviceReportServiceTests {
    @Test func aTamperEventRaisesAnAlarmAndIsStoredAsAnOpenAlarm() async throws {
        let gateway = try await TestGateway()
        let ts = Int64(0)
        gateway.receive(gateway.topics.event(lockID: "lock-1"), DeviceMessages.alarm("tamper", ts: ts))
        let alarm = await gateway.published.first { $0.topic == gateway.topics.alarms }
        let json = try #require(alarm.flatMap { TestGateway.json($0.payload) })
        #expect(json["type"] as? String == "tamper" && json["lockId"] as? String == "lock-1")
        await gateway.stop()
        let stored = try gateway.temporary.store.deviceStates().first { $0.id == "lock-1" }
        #expect(stored?.openAlarms == ["tamper"])
    }

    @Test func aForcedDoorRaisesDoorForced() async throws {
        let gateway = try await TestGateway()
        gateway.receive(gateway.topics.event(lockID: "lock-2"), DeviceMessages.door(open: true, ts: 1))
        let alarm = await gateway.published.first {
            $0.topic == gateway.topics.alarms && $0.payloadString?.contains("door_forced") == true
        }
        #expect(alarm != nil)
        await gateway.stop()
    }

    /// A lock flooding its status costs one slot: the latest status is what is stored.
    @Test func aStatusFloodIsCoalescedToTheLatestStatus() async throws {
        let gateway = try await TestGateway(logLevel: .warning)
        for battery in 0...10_000 {
            gateway.receive(
                gateway.topics.status(lockID: "lock-3"), DeviceMessages.status(battery: battery % 101, ts: 1))
        }
        gateway.receive(gateway.topics.status(lockID: "lock-3"), DeviceMessages.status(battery: 77, ts: 2))
        await gateway.stop()
        let stored = try gateway.temporary.store.deviceStates().first { $0.id == "lock-3" }
        #expect(stored?.battery == 77)
        #expect(!gateway.logs.entries.contains { "\($0.message)" == "lane full: messages dropped" })
    }

    @Test func malformedAndUnknownReportsAreDroppedWithoutEffect() async throws {
        let gateway = try await TestGateway()
        gateway.receive(gateway.topics.event(lockID: "lock-1"), #"{"type":"door","state":"ajar"}"#)
        gateway.receive(gateway.topics.event(lockID: "lock-99"), DeviceMessages.alarm("tamper", ts: 1))
        gateway.receive(gateway.topics.telemetry(poleID: "pole-1"), "[]")
        gateway.receive("access/site-1/locks/a+b/event", DeviceMessages.alarm("tamper", ts: 1))
        await gateway.stop()  // drains the lanes
        #expect(gateway.published.messages(on: gateway.topics.alarms).isEmpty)
        #expect(try gateway.temporary.store.deviceStates().allSatisfy { $0.openAlarms.isEmpty })
    }

    /// The bound itself is shown in `LaneTests`; here, a flood through the service is said in the
    /// log at most once per interval, not once per dropped event.
    @Test func anEventFloodIsLoggedOnceNotPerEvent() async throws {
        let gateway = try await TestGateway(logLevel: .warning)
        for index in 0..<(DeviceReportService.eventCapacity * 4) {
            gateway.receive(gateway.topics.event(lockID: "lock-1"), DeviceMessages.door(open: index % 2 == 0, ts: 1))
        }
        await gateway.stop()
        // Whatever was dropped was said once, not per message.
        let drops = gateway.logs.entries.filter { "\($0.message)" == "lane full: messages dropped" }
        #expect(drops.count <= 2)
    }
}
