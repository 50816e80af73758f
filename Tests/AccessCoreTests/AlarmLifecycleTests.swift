import AccessCore
import AccessProtocol
import AccessTesting
import Testing

/// An alarm's life: raised once per episode, cleared by the device's own report (or time), or
/// acknowledged by an operator, after which the next episode raises it again.
@Suite struct AlarmLifecycleTests {
    func monitor() -> DeviceMonitor {
        DeviceMonitor(site: TestSite(spaces: 2).site, policy: AlarmPolicy(), unlockForS: 5, startMs: 0)
    }

    func cleared(_ actions: [DeviceMonitor.Action]) -> [Alarm.Kind] {
        actions.compactMap { if case .clear(let kind, _, _, _) = $0 { kind } else { nil } }
    }

    @Test func theDevicesOwnReportEndsEachEpisodeOnce() {
        var monitor = monitor()
        _ = monitor.lockReport(.door(open: true), lockID: "lock-1", nowMs: 1000)
        #expect(monitor.lockView("lock-1")?.alarms == [.doorForced])
        #expect(monitor.lockView("lock-1")?.doorOpen == true)
        #expect(cleared(monitor.lockReport(.door(open: false), lockID: "lock-1", nowMs: 2000)) == [.doorForced])
        #expect(cleared(monitor.lockReport(.door(open: false), lockID: "lock-1", nowMs: 3000)).isEmpty)
        #expect(monitor.lockView("lock-1")?.doorOpen == false)

        _ = monitor.lockReport(
            .status(online: false, battery: 10, firmware: nil, rssi: nil), lockID: "lock-2", nowMs: 1)
        #expect(monitor.lockView("lock-2")?.alarms == [.lockOffline, .lowBattery])
        let back = monitor.lockReport(
            .status(online: true, battery: 90, firmware: nil, rssi: nil), lockID: "lock-2", nowMs: 2)
        #expect(Set(cleared(back)) == [.lockOffline, .lowBattery])
        #expect(monitor.lockView("lock-2")?.lastSeenMs == 2 && monitor.lockView("lock-2")?.battery == 90)

        _ = monitor.lockReport(.lockAlarm("tamper"), lockID: "lock-1", nowMs: 10_000)
        #expect(cleared(monitor.tick(nowMs: 10_000 + AlarmPolicy().tamperQuietS * 1000 + 1)) == [.tamper])
    }

    @Test func anAcknowledgedEpisodeIsRaisedAgainNextTime() {
        var monitor = monitor()
        let first = monitor.lockReport(.door(open: true), lockID: "lock-1", nowMs: 1000)
        #expect(first.count == 1)
        #expect(monitor.lockReport(.door(open: true), lockID: "lock-1", nowMs: 1500).isEmpty)
        monitor.acknowledge(.doorForced, lockID: "lock-1", poleID: nil)
        #expect(monitor.lockView("lock-1")?.alarms == [])
        // Still open, but the episode was acknowledged: a new report raises a new one.
        #expect(monitor.lockReport(.door(open: true), lockID: "lock-1", nowMs: 2000).count == 1)
    }

    @Test func anAlarmRestoredAfterARestartIsNotRaisedTwiceAndEndsWithTheReport() {
        var monitor = monitor()
        monitor.restoreOpen(.doorForced, lockID: "lock-1", poleID: nil)
        #expect(monitor.lockReport(.door(open: true), lockID: "lock-1", nowMs: 1000).isEmpty)
        #expect(cleared(monitor.lockReport(.door(open: false), lockID: "lock-1", nowMs: 2000)) == [.doorForced])
    }

    @Test func activeAlarmsKeepOnePerKindAndDeviceAndAreBounded() {
        var active = ActiveAlarms(limit: 3)
        let forced = Alarm(kind: .doorForced, lockID: "lock-1", timestampMs: 1, detail: "")
        #expect(active.raised(forced, alarmID: "a-1").replaced == nil)
        let again = active.raised(
            Alarm(kind: .doorForced, lockID: "lock-1", timestampMs: 2, detail: ""), alarmID: "a-2")
        #expect(again.replaced?.alarmID == "a-1")
        #expect(active.count == 1 && active.entry(alarmID: "a-1") == nil)
        active.raised(Alarm(kind: .tamper, lockID: "lock-1", timestampMs: 3, detail: ""), alarmID: "a-3")
        active.raised(Alarm(kind: .poleFault, poleID: "pole-1", timestampMs: 4, detail: ""), alarmID: "a-4")
        let full = active.raised(Alarm(kind: .tamper, lockID: "lock-2", timestampMs: 5, detail: ""), alarmID: "a-5")
        #expect(full.evicted?.alarmID == "a-2")
        #expect(active.entries.map(\.alarmID) == ["a-3", "a-4", "a-5"])
        #expect(active.cleared(.tamper, lockID: "lock-1", poleID: nil)?.alarmID == "a-3")
        #expect(active.cleared(.tamper, lockID: "lock-1", poleID: nil) == nil)
        #expect(active.acknowledged(alarmID: "a-4")?.alarm.poleID == "pole-1")
        #expect(active.acknowledged(alarmID: "a-4") == nil)
        #expect(active.entries.map(\.alarmID) == ["a-5"])
    }

    @Test func theActiveListIsCappedAndSaysSo() throws {
        let alarms = (0..<250).map {
            (alarmID: "a-\($0)", alarm: Alarm(kind: .tamper, lockID: "lock-\($0)", timestampMs: Int64($0), detail: ""))
        }
        let payload = LiveStateMessages.activeAlarms(alarms, ts: 9)
        #expect(payload.contains(#""count":250"#) && payload.contains(#""truncated":true"#))
        #expect(payload.contains(#""alarmId":"a-249""#) && !payload.contains(#""alarmId":"a-49""#))
    }
}
