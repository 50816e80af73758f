import AccessCore
import AccessGateway
import AccessGatewayTesting
import AccessProtocol
import AccessStore
import AccessTesting
import MQTT
import Testing

/// Live state and the alarm lifecycle in-process: each device's retained state, the retained
/// list of open alarms, and an alarm's end by the device or by an operator's acknowledgement.
@Suite struct LiveStateServiceTests {
    static func json(_ message: MQTTMessage?) -> [String: Any]? { message.flatMap { TestGateway.json($0.payload) } }

    @Test func aLocksLiveStateShowsItsDoorAlarmsAndLastDecisionButNoHolder() async throws {
        let gateway = try await TestGateway()
        let booking = RequestServiceTests.activeBooking()
        #expect(gateway.book(.upsert(booking)) == "applied")
        let token = Credential.token(gateway.site.token(for: booking, jti: "t-live"))
        #expect(await gateway.request(requestID: "r-live", credential: token)?["reason"] as? String == "granted")
        gateway.receive(gateway.topics.event(lockID: "lock-1"), DeviceMessages.door(open: true, ts: 1))
        let topic = gateway.topics.lockState(gatewayID: "gw-1", lockID: "lock-1")
        let state = await gateway.published.first {
            $0.topic == topic && $0.retain && $0.payloadString?.contains(#""door":"open""#) == true
                && $0.payloadString?.contains(#""outcome":"granted""#) == true
        }
        let json = try #require(Self.json(state), "\(gateway.published.messages(on: topic).map(\.payloadString))")
        #expect(json["spaceId"] as? String == "room-1")
        #expect((json["lastDecision"] as? [String: Any])?["reason"] as? String == "granted")
        #expect(state?.payloadString?.contains(booking.holder) == false)
        #expect(state?.payloadString?.contains("t-live") == false)
        // Every device gets its state once at start, poles too.
        #expect(
            await gateway.published.first {
                $0.topic == gateway.topics.poleState(gatewayID: "gw-1", poleID: "pole-2") && $0.retain
            } != nil)
        await gateway.stop()
    }

    @Test func aCongestedConnectionHoldsLockStatesBackButNotAlarms() async throws {
        let gateway = try await TestGateway()
        let topic = gateway.topics.lockState(gatewayID: "gw-1", lockID: "lock-2")
        // The start-up states went out (nothing waited).
        #expect(await gateway.published.first { $0.topic == topic } != nil)
        gateway.published.simulatedBacklog.store(1_000, ordering: .relaxed)
        let before = gateway.published.count(on: topic)
        gateway.receive(gateway.topics.event(lockID: "lock-2"), DeviceMessages.alarm("tamper", ts: 1))
        // The alarm list goes at once; the lock's state waits for room.
        #expect(
            await gateway.published.first {
                $0.topic == gateway.topics.activeAlarms && $0.payloadString?.contains("tamper") == true
            } != nil)
        // Longer than a tick of the old one-second schedule, which published regardless.
        try await Task.sleep(for: .milliseconds(1_200))
        #expect(gateway.published.count(on: topic) == before)
        gateway.published.simulatedBacklog.store(0, ordering: .relaxed)
        #expect(
            await gateway.published.first {
                $0.topic == topic && $0.payloadString?.contains("tamper") == true
            } != nil)
        await gateway.stop()
    }

    @Test func aChattyLocksStateGoesOutAboutOnceASecond() async throws {
        let gateway = try await TestGateway()
        let topic = gateway.topics.lockState(gatewayID: "gw-1", lockID: "lock-3")
        #expect(await gateway.published.first { $0.topic == topic } != nil)
        let before = gateway.published.count(on: topic)
        // Twenty changes over two seconds: the state is taken once a second, whatever the slices.
        for index in 0..<20 {
            gateway.receive(
                gateway.topics.event(lockID: "lock-3"), DeviceMessages.door(open: index % 2 == 0, ts: Int64(index) + 1))
            try await Task.sleep(for: .milliseconds(100))
        }
        let published = gateway.published.count(on: topic) - before
        #expect(published >= 1, "the changes were published")
        #expect(published <= 4)
        await gateway.stop()
    }

    @Test func aDeviceReportEndsItsAlarmAndTheActiveListFollows() async throws {
        let gateway = try await TestGateway()
        gateway.receive(gateway.topics.event(lockID: "lock-2"), DeviceMessages.door(open: true, ts: 1))
        let raised = try #require(
            Self.json(await gateway.published.first { $0.topic == gateway.topics.alarms }))
        let alarmID = try #require(raised["alarmId"] as? String)
        let active = await gateway.published.first {
            $0.topic == gateway.topics.activeAlarms && $0.retain && $0.payloadString?.contains(alarmID) == true
        }
        #expect(active?.payloadString?.contains(#""count":1"#) == true)
        gateway.receive(gateway.topics.event(lockID: "lock-2"), DeviceMessages.door(open: false, ts: 2))
        let cleared = try #require(
            Self.json(await gateway.published.first { $0.topic == gateway.topics.clearedAlarms }))
        #expect(cleared["alarmId"] as? String == alarmID && cleared["clearedBy"] as? String == "device")
        #expect(cleared["type"] as? String == "door_forced" && cleared["note"] as? String == "the door closed")
        #expect(
            await gateway.published.first {
                $0.topic == gateway.topics.activeAlarms && $0.payloadString?.contains(#""count":0"#) == true
            } != nil)
        await gateway.stop()
        let history = try gateway.temporary.store.alarms(includeCleared: true)
        #expect(history.map(\.alarmID) == [alarmID] && history.first?.clearedBy == "device")
    }

    @Test func anOperatorAcknowledgementClearsTheAlarmWithTheirNameAndNote() async throws {
        let gateway = try await TestGateway()
        gateway.receive(gateway.topics.event(lockID: "lock-1"), DeviceMessages.alarm("tamper", ts: 1))
        let raised = try #require(
            Self.json(await gateway.published.first { $0.topic == gateway.topics.alarms }))
        let alarmID = try #require(raised["alarmId"] as? String)
        // The history row is written with the next device batch; then accessctl can name it.
        let store = gateway.temporary.store
        var requested = false
        for _ in 0..<100 where !requested {
            do {
                try await store.requestAlarmAcknowledgement(
                    alarmID: alarmID, operatorName: "alice", note: "checked on site", nowMs: 5)
                requested = true
            } catch {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        #expect(requested)
        let cleared = try #require(
            Self.json(await gateway.published.first { $0.topic == gateway.topics.clearedAlarms }))
        #expect(cleared["clearedBy"] as? String == "operator" && cleared["operator"] as? String == "alice")
        #expect(cleared["note"] as? String == "checked on site")
        // An unknown id, or one already cleared, is refused with the reason.
        await #expect(throws: AccessStore.AlarmAckError.unknown("a-nope")) {
            try await store.requestAlarmAcknowledgement(alarmID: "a-nope", operatorName: "alice", note: "x", nowMs: 6)
        }
        // The next tamper report is a new episode: a new alarm.
        gateway.receive(gateway.topics.event(lockID: "lock-1"), DeviceMessages.alarm("tamper", ts: 7))
        #expect(await gateway.published.waitFor(2, on: gateway.topics.alarms))
        await gateway.stop()
        let history = try store.alarms(includeCleared: true)
        let first = try #require(history.first { $0.alarmID == alarmID })
        #expect(first.clearedBy == "operator" && first.operatorName == "alice" && first.note == "checked on site")
        #expect(try store.pendingAlarmAcknowledgements().isEmpty)
    }
}
