import AccessCore
import AccessProtocol
import AccessStore
import Logging
import MQTT
import ServiceLifecycle

/// What locks and poles report: lock events, lock statuses, pole telemetry and pole statuses,
/// each kind in a lane of its own with one ordered consumer that feeds the site monitor (alarms,
/// welcome lighting) and the coalescing device-state writer.
///
/// Lanes and what they drop when full (counted in `access_lane_dropped_total`, logged at most
/// every 10 s):
/// - lock events, FIFO (each event matters: a door opened, a command's result): the newest;
/// - statuses, coalesced per device (only the latest matters): nothing while the device already
///   waits, since its newer status replaces the older one; bounded by the inventory;
/// - pole telemetry, FIFO (presence is an event): the newest.
public final class DeviceReportService: Service, Sendable {
    public static let eventCapacity = 4096
    public static let telemetryCapacity = 4096

    struct Report: Sendable {
        var deviceID: String
        var payload: [UInt8]
    }

    struct ProfileReport: Sendable {
        var lockID: String
        var kind: ProfileInbound
        var payload: [UInt8]
        /// A retained state (Zigbee2MQTT may retain a device's state): its state counts, but an
        /// action in it happened before and is not acted on again.
        var retained = false
    }

    let context: GatewayContext
    let lockEvents = FIFOLane<Report>(capacity: DeviceReportService.eventCapacity)
    let lockStatuses: CoalescingLane<String, [UInt8]>
    let poleTelemetry = FIFOLane<Report>(capacity: DeviceReportService.telemetryCapacity)
    let poleStatuses: CoalescingLane<String, [UInt8]>
    /// Dialect devices' reports (device profiles), FIFO (a command response or a keypad open
    /// matters once): the newest is dropped when full.
    let profileReports = FIFOLane<ProfileReport>(capacity: DeviceReportService.eventCapacity)
    private let profileDrops: DropReporter
    private let eventDrops: DropReporter
    private let statusDrops: DropReporter
    private let telemetryDrops: DropReporter
    /// How often pending device state is written to the store.
    let flushInterval: Duration

    init(context: GatewayContext, flushInterval: Duration = .milliseconds(500)) {
        self.context = context
        let site = context.settings.site
        lockStatuses = CoalescingLane(capacity: max(64, site.locks.count))
        poleStatuses = CoalescingLane(capacity: max(64, site.poles.count))
        eventDrops = DropReporter(lane: "lock_events", logger: context.logger)
        profileDrops = DropReporter(lane: "profile_reports", logger: context.logger)
        statusDrops = DropReporter(lane: "device_status", logger: context.logger)
        telemetryDrops = DropReporter(lane: "pole_telemetry", logger: context.logger)
        self.flushInterval = flushInterval
    }

    // MARK: Intake (the router, on the network thread: never waits)

    func offerLockEvent(_ payload: [UInt8], lockID: String) {
        guard isKnownLock(lockID) else { return }
        if !lockEvents.offer(Report(deviceID: lockID, payload: payload)) { eventDrops.dropped("full") }
    }

    func offerLockStatus(_ payload: [UInt8], lockID: String) {
        guard isKnownLock(lockID) else { return }
        if lockStatuses.offer(payload, for: lockID) == .refused { statusDrops.dropped("full") }
    }

    func offerProfileReport(_ payload: [UInt8], lockID: String, kind: ProfileInbound, retained: Bool = false) {
        if !profileReports.offer(ProfileReport(lockID: lockID, kind: kind, payload: payload, retained: retained)) {
            profileDrops.dropped("full")
        }
    }

    func offerPoleTelemetry(_ payload: [UInt8], poleID: String) {
        guard isKnownPole(poleID) else { return }
        if !poleTelemetry.offer(Report(deviceID: poleID, payload: payload)) { telemetryDrops.dropped("full") }
    }

    func offerPoleStatus(_ payload: [UInt8], poleID: String) {
        guard isKnownPole(poleID) else { return }
        if poleStatuses.offer(payload, for: poleID) == .refused { statusDrops.dropped("full") }
    }

    private func isKnownLock(_ lockID: String) -> Bool {
        isKnown(lockID) { $0.locks[lockID] != nil }
    }

    private func isKnownPole(_ poleID: String) -> Bool {
        isKnown(poleID) { $0.poles[poleID] != nil }
    }

    /// A valid id in the inventory; anything else is dropped and counted before it takes room.
    private func isKnown(_ id: String, in inventory: (Site) -> Bool) -> Bool {
        guard Identifier.isValid(id), inventory(context.settings.site) else {
            context.metrics.drop("unknown_device")
            return false
        }
        return true
    }

    // MARK: Consumers

    public func run() async throws {
        let writer = context.monitor.stateWriter
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { outer in
                outer.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: self.flushInterval)
                        await self.flush(writer)
                    }
                }
                await withDiscardingTaskGroup { group in
                    group.addTask {
                        while let report = await self.lockEvents.next() {
                            self.applyLockReport(
                                DeviceReport.parseLockEvent(report.payload), lockID: report.deviceID, kind: "event")
                        }
                    }
                    group.addTask {
                        while let (lockID, payload) = await self.lockStatuses.next() {
                            self.applyLockReport(DeviceReport.parseStatus(payload), lockID: lockID, kind: "status")
                        }
                    }
                    group.addTask {
                        while let report = await self.poleTelemetry.next() {
                            self.applyPoleReport(
                                DeviceReport.parseTelemetry(report.payload), poleID: report.deviceID,
                                kind: "telemetry")
                        }
                    }
                    group.addTask {
                        while let report = await self.profileReports.next() {
                            self.applyProfileReport(report)
                        }
                    }
                    group.addTask {
                        while let (poleID, payload) = await self.poleStatuses.next() {
                            self.applyPoleReport(DeviceReport.parseStatus(payload), poleID: poleID, kind: "status")
                        }
                    }
                }
                outer.cancelAll()
            }
            // What the last reports left pending.
            await flush(writer)
        } onGracefulShutdown: {
            self.lockEvents.close()
            self.lockStatuses.close()
            self.poleTelemetry.close()
            self.poleStatuses.close()
            self.profileReports.close()
        }
    }

    func flush(_ writer: DeviceStateWriter) async {
        do { try await writer.flush(to: context.store) } catch {
            context.logger.error("device state not stored (retried)", metadata: ["error": "\(error)"])
        }
    }

    func applyLockReport(_ report: DeviceReport?, lockID: String, kind: String) {
        guard let report else {
            context.metrics.drop("malformed_\(kind)")
            return
        }
        let nowMs = context.nowMs()
        context.monitor.update { $0.lockReport(report, lockID: lockID, nowMs: nowMs) }
        context.monitor.noteOpenAlarms(lockID: lockID)
        context.monitor.liveState.lockChanged(lockID)
        var state = AccessStore.DeviceState(kind: "lock", id: lockID, lastSeenMs: nowMs)
        switch report {
        case .status(let online, let battery, let firmware, let rssi):
            state.online = online
            state.battery = battery
            state.firmware = firmware
            state.rssi = rssi
        case .door(let open): state.doorState = open ? "open" : "closed"
        case .lockState(let lockState): state.lockState = lockState
        default: break
        }
        context.monitor.stateWriter.record(state)
    }

    /// A dialect device's report: what it did with an unlock first (so the door opening that
    /// follows is not taken for a forced one), then its state as contract reports.
    func applyProfileReport(_ report: ProfileReport) {
        guard context.settings.site.locks[report.lockID] != nil else { return context.metrics.drop("unknown_device") }
        guard
            let reading = ProfileReading.parse(
                report.payload, kind: report.kind, pinDigits: context.settings.configuration.policy.pinDigits)
        else {
            return context.metrics.drop("malformed_profile")
        }
        let lockID = report.lockID
        if report.retained {
            // Only the state: a retained unlock, response or keypad open is an old one.
            for deviceReport in reading.reports { applyLockReport(deviceReport, lockID: lockID, kind: "profile") }
            return
        }
        if reading.unlatched == true, let unlock = context.pendingUnlocks.take(lockID: lockID) {
            applyLockReport(
                .commandResult(commandID: unlock.commandID, result: "executed"), lockID: lockID, kind: "profile")
        }
        if let code = reading.commandResponse {
            let unlock = context.pendingUnlocks.take(lockID: lockID)
            let commandID = unlock?.commandID ?? "unknown"
            // Nuki: 0 is success; any other code is the BLE API's error.
            let result = code == 0 ? "executed" : "error \(code) (Nuki commandResponse)"
            applyLockReport(.commandResult(commandID: commandID, result: result), lockID: lockID, kind: "profile")
        }
        if let open = reading.keypadOpen {
            context.monitor.update {
                $0.unlockedLocally(lockID: lockID, nowMs: self.context.nowMs())
                return []
            }
            context.pinPushInbox.keypadOpened(lockID: lockID, open)
        }
        if !reading.slotStatuses.isEmpty {
            context.pinPushInbox.slotsRead(lockID: lockID, reading.slotStatuses)
        }
        for deviceReport in reading.reports {
            if case .status(let online, _, _, _) = deviceReport, online,
                context.monitor.read({ $0.lockView(lockID)?.online }) == false
            {
                // Back after being away: its PIN slots are read again.
                context.pinPushInbox.reconnected(lockID: lockID)
            }
            applyLockReport(deviceReport, lockID: lockID, kind: "profile")
        }
    }

    func applyPoleReport(_ report: DeviceReport?, poleID: String, kind: String) {
        guard let report else {
            context.metrics.drop("malformed_\(kind)")
            return
        }
        let nowMs = context.nowMs()
        context.monitor.update { $0.poleReport(report, poleID: poleID, nowMs: nowMs) }
        context.monitor.noteOpenAlarms(poleID: poleID)
        context.monitor.liveState.poleChanged(poleID)
        if case .telemetry(let telemetry) = report, telemetry.someoneThere {
            for spaceID in context.settings.site.spaceIDsByPole[poleID] ?? [] {
                do {
                    let occupancy = try context.store.spaceOccupancy(spaceID: spaceID, nowMs: nowMs)
                    context.monitor.update {
                        $0.presence(
                            spaceID: spaceID, poleID: poleID, lastReservationEndMs: occupancy.lastEndMs,
                            reservationActive: occupancy.active, nowMs: nowMs)
                    }
                } catch {
                    context.logger.error(
                        "occupancy lookup failed", metadata: ["space": "\(spaceID)", "error": "\(error)"])
                }
            }
        }
        if case .status(let online, _, let firmware, let rssi) = report {
            context.monitor.stateWriter.record(
                AccessStore.DeviceState(
                    kind: "pole", id: poleID, online: online, firmware: firmware, rssi: rssi, lastSeenMs: nowMs))
        }
    }
}
