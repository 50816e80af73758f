import AccessCore
import AccessProtocol
import AccessTesting
import Testing

/// Alarms from device reports and time, once per episode.
@Suite struct DeviceMonitorTests {
    func monitor() -> DeviceMonitor {
        DeviceMonitor(site: TestSite(spaces: 2).site, policy: AlarmPolicy(), unlockForS: 5, startMs: 0)
    }

    func kinds(_ actions: [DeviceMonitor.Action]) -> [Alarm.Kind] {
        actions.compactMap { if case .raise(let alarm) = $0 { alarm.kind } else { nil } }
    }

    @Test func aDoorOpenedAfterAnExecutedUnlockIsNotForcedButOneLeftOpenIsAjarOnce() {
        var monitor = monitor()
        monitor.commandIssued(lockID: "lock-1", commandID: "c-1", notAfterMs: 5_000)
        monitor.commandIssued(lockID: "lock-1", commandID: "c-2", notAfterMs: 405_000)
        #expect(
            kinds(
                monitor.lockReport(.commandResult(commandID: "c-1", result: "executed"), lockID: "lock-1", nowMs: 1000)
            ).isEmpty)
        #expect(kinds(monitor.lockReport(.door(open: true), lockID: "lock-1", nowMs: 2000)).isEmpty)
        #expect(kinds(monitor.tick(nowMs: 2000 + 120_000)).isEmpty)
        #expect(kinds(monitor.tick(nowMs: 2000 + 120_001)) == [.doorAjar])
        #expect(!kinds(monitor.tick(nowMs: 2000 + 200_000)).contains(.doorAjar))
        #expect(kinds(monitor.lockReport(.door(open: false), lockID: "lock-1", nowMs: 300_000)).isEmpty)
        // 15 s after the unlock is more than unlockForS + 10: forced.
        _ = monitor.lockReport(.commandResult(commandID: "c-2", result: "executed"), lockID: "lock-1", nowMs: 400_000)
        #expect(kinds(monitor.lockReport(.door(open: true), lockID: "lock-1", nowMs: 415_001)) == [.doorForced])
    }

    /// (v1.1) A lock cannot mask a forced door with a result for a command the gateway never
    /// issued, issued to another lock, already used, or past its `notAfter`.
    @Test func onlyAnIssuedFreshCommandsExecutionMakesAnOpeningLegitimate() {
        var monitor = monitor()
        monitor.commandIssued(lockID: "lock-2", commandID: "c-other", notAfterMs: 10_000)
        monitor.commandIssued(lockID: "lock-1", commandID: "c-late", notAfterMs: 1_000)
        for (commandID, atMs) in [("c-never", Int64(2_000)), ("c-other", 2_000), ("c-late", 2_000)] {
            _ = monitor.lockReport(
                .commandResult(commandID: commandID, result: "executed"), lockID: "lock-1", nowMs: atMs)
        }
        #expect(kinds(monitor.lockReport(.door(open: true), lockID: "lock-1", nowMs: 3_000)) == [.doorForced])
        _ = monitor.lockReport(.door(open: false), lockID: "lock-1", nowMs: 4_000)

        monitor.commandIssued(lockID: "lock-1", commandID: "c-ok", notAfterMs: 10_000)
        _ = monitor.lockReport(.commandResult(commandID: "c-ok", result: "executed"), lockID: "lock-1", nowMs: 5_000)
        #expect(kinds(monitor.lockReport(.door(open: true), lockID: "lock-1", nowMs: 6_000)).isEmpty)
        _ = monitor.lockReport(.door(open: false), lockID: "lock-1", nowMs: 7_000)
        // Used once: the same result again legitimises nothing later.
        _ = monitor.lockReport(.commandResult(commandID: "c-ok", result: "executed"), lockID: "lock-1", nowMs: 30_000)
        #expect(kinds(monitor.lockReport(.door(open: true), lockID: "lock-1", nowMs: 31_000)) == [.doorForced])
    }

    /// Issued commands are forgotten by `tick` once past their `notAfter`, in the order they were
    /// issued; one that ends before a command issued earlier (a shortened TTL) is forgotten late,
    /// and legitimises nothing once past its `notAfter` all the same.
    @Test func issuedCommandsAreForgottenOncePastTheirNotAfterAndNeverBefore() {
        var monitor = monitor()
        monitor.commandIssued(lockID: "lock-1", commandID: "c-1", notAfterMs: 5_000)
        monitor.commandIssued(lockID: "lock-1", commandID: "c-2", notAfterMs: 9_000)
        monitor.commandIssued(lockID: "lock-1", commandID: "c-3", notAfterMs: 6_000)
        _ = monitor.tick(nowMs: 5_000)
        #expect(monitor.issuedCommandCount == 3)
        _ = monitor.tick(nowMs: 7_000)
        #expect(monitor.issuedCommandCount == 2)
        _ = monitor.lockReport(.commandResult(commandID: "c-3", result: "executed"), lockID: "lock-1", nowMs: 7_000)
        #expect(kinds(monitor.lockReport(.door(open: true), lockID: "lock-1", nowMs: 7_100)) == [.doorForced])
        _ = monitor.lockReport(.door(open: false), lockID: "lock-1", nowMs: 7_200)
        _ = monitor.lockReport(.commandResult(commandID: "c-2", result: "executed"), lockID: "lock-1", nowMs: 8_000)
        #expect(kinds(monitor.lockReport(.door(open: true), lockID: "lock-1", nowMs: 8_100)).isEmpty)
        _ = monitor.tick(nowMs: 9_001)
        #expect(monitor.issuedCommandCount == 0)
    }

    /// Fifty failed results raise one `command_failed`, counted; an executed command ends it.
    @Test func failedCommandsAreOneEpisodePerLockWithACount() {
        var monitor = monitor()
        var raised = 0
        for index in 0..<50 {
            raised +=
                kinds(
                    monitor.lockReport(
                        .commandResult(commandID: "c-\(index)", result: "bad_mac"), lockID: "lock-1", nowMs: 100)
                ).filter { $0 == .commandFailed }.count
        }
        #expect(raised == 1 && monitor.commandFailures(lockID: "lock-1") == 50)
        monitor.commandIssued(lockID: "lock-1", commandID: "c-ok", notAfterMs: 10_000)
        _ = monitor.lockReport(.commandResult(commandID: "c-ok", result: "executed"), lockID: "lock-1", nowMs: 200)
        #expect(monitor.commandFailures(lockID: "lock-1") == 0)
        #expect(
            kinds(monitor.lockReport(.commandResult(commandID: "c-x", result: "expired"), lockID: "lock-1", nowMs: 300))
                == [.commandFailed])
    }

    @Test func offlineByLastWillOrSilenceOncePerEpisode() {
        var monitor = monitor()
        #expect(
            kinds(
                monitor.lockReport(
                    .status(online: true, battery: 90, firmware: nil, rssi: nil), lockID: "lock-1", nowMs: 0)
            ).isEmpty)
        #expect(kinds(monitor.tick(nowMs: 180_000)).isEmpty)
        // lock-2 never reported: offline 180 s after start; lock-1 too, once.
        let silent = kinds(monitor.tick(nowMs: 180_001))
        #expect(silent == [.lockOffline, .lockOffline])
        #expect(kinds(monitor.tick(nowMs: 400_000)).isEmpty)
        _ = monitor.lockReport(
            .status(online: true, battery: nil, firmware: nil, rssi: nil), lockID: "lock-1", nowMs: 400_000)
        #expect(
            kinds(
                monitor.lockReport(
                    .status(online: false, battery: nil, firmware: nil, rssi: nil), lockID: "lock-1", nowMs: 400_001))
                == [.lockOffline])
        #expect(
            kinds(
                monitor.lockReport(
                    .status(online: false, battery: nil, firmware: nil, rssi: nil), lockID: "lock-1", nowMs: 400_002)
            ).isEmpty)
    }

    @Test func lowBatteryTamperJammedAndPoleFaultEpisodes() {
        var monitor = monitor()
        let low = DeviceReport.status(online: true, battery: 19, firmware: nil, rssi: nil)
        #expect(kinds(monitor.lockReport(low, lockID: "lock-1", nowMs: 0)) == [.lowBattery])
        #expect(kinds(monitor.lockReport(low, lockID: "lock-1", nowMs: 1)).isEmpty)
        _ = monitor.lockReport(.status(online: true, battery: 22, firmware: nil, rssi: nil), lockID: "lock-1", nowMs: 2)
        #expect(
            kinds(monitor.lockReport(low, lockID: "lock-1", nowMs: 3)).isEmpty, "no new episode below the hysteresis")
        _ = monitor.lockReport(.status(online: true, battery: 80, firmware: nil, rssi: nil), lockID: "lock-1", nowMs: 4)
        #expect(kinds(monitor.lockReport(low, lockID: "lock-1", nowMs: 5)) == [.lowBattery])

        #expect(kinds(monitor.lockReport(.lockAlarm("tamper"), lockID: "lock-1", nowMs: 10)) == [.tamper])
        #expect(kinds(monitor.lockReport(.lockAlarm("tamper"), lockID: "lock-1", nowMs: 20)).isEmpty)
        _ = monitor.tick(nowMs: 400_000)
        #expect(kinds(monitor.lockReport(.lockAlarm("tamper"), lockID: "lock-1", nowMs: 400_001)) == [.tamper])

        #expect(kinds(monitor.lockReport(.lockState("jammed"), lockID: "lock-1", nowMs: 30)) == [.jammed])
        #expect(kinds(monitor.lockReport(.lockAlarm("jammed"), lockID: "lock-1", nowMs: 31)).isEmpty)
        _ = monitor.lockReport(.lockState("locked"), lockID: "lock-1", nowMs: 32)
        #expect(kinds(monitor.lockReport(.lockState("jammed"), lockID: "lock-1", nowMs: 33)) == [.jammed])

        #expect(
            kinds(monitor.lockReport(.commandResult(commandID: "c-1", result: "bad_mac"), lockID: "lock-1", nowMs: 40))
                == [.commandFailed])

        let fault = DeviceReport.PoleTelemetry(ts: 1, status: "defectiveLamp")
        #expect(kinds(monitor.poleReport(.telemetry(fault), poleID: "pole-1", nowMs: 50)) == [.poleFault])
        #expect(kinds(monitor.poleReport(.telemetry(fault), poleID: "pole-1", nowMs: 51)).isEmpty)
    }

    @Test func overstayOncePerReservationEnd() {
        var monitor = monitor()
        let end: Int64 = 1_000_000
        #expect(
            monitor.presence(
                spaceID: "room-1", poleID: "pole-1", lastReservationEndMs: end, reservationActive: false,
                nowMs: end + 900_000
            ).isEmpty)
        #expect(
            kinds(
                monitor.presence(
                    spaceID: "room-1", poleID: "pole-1", lastReservationEndMs: end, reservationActive: false,
                    nowMs: end + 900_001)) == [.overstay])
        #expect(
            monitor.presence(
                spaceID: "room-1", poleID: "pole-1", lastReservationEndMs: end, reservationActive: false,
                nowMs: end + 999_999
            ).isEmpty)
        #expect(
            monitor.presence(
                spaceID: "room-1", poleID: "pole-1", lastReservationEndMs: end, reservationActive: true,
                nowMs: end + 2_000_000
            ).isEmpty)
    }
}
