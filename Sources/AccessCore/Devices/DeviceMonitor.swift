import AccessProtocol

/// Device health and alarms as a pure state machine: reports, grants and clock ticks go in,
/// alarms to raise or clear and poles to light come out. Each alarm is raised once per episode
/// (a door opened by force raises one `door_forced` until it closes), not once per message, and
/// the episode's end (the door closes, the lock is back online) clears it.
public struct DeviceMonitor: Sendable {
    public enum Action: Sendable, Hashable {
        case raise(Alarm)
        /// The device's own report (or time) ended the episode of this alarm.
        case clear(Alarm.Kind, lockID: String?, poleID: String?, reason: String)
        case light(poleID: String, level: Int, forS: Int)
    }

    /// One per lock in the inventory, so kept small (56 bytes): optional times are stored with a
    /// sentinel and read back as optionals, and the open alarms as bits.
    struct LockHealth: Sendable {
        var lastStatusMs: Int64
        private var rawDoorOpenSinceMs = Int64.min
        private var rawLastExecutedCommandMs = Int64.min
        private var rawLastTamperMs = Int64.min
        private var rawBattery: Int16 = -1
        private var rawOnline: Int8 = -1
        private var rawDoorOpen: Int8 = -1
        var active: AlarmKinds = []
        var lockState: String?

        init(lastStatusMs: Int64) {
            self.lastStatusMs = lastStatusMs
        }

        var online: Bool? {
            get { rawOnline < 0 ? nil : rawOnline == 1 }
            set { rawOnline = newValue.map { $0 ? 1 : 0 } ?? -1 }
        }
        /// Whether the door is open, as last reported (nil before any door event).
        var doorOpen: Bool? {
            get { rawDoorOpen < 0 ? nil : rawDoorOpen == 1 }
            set { rawDoorOpen = newValue.map { $0 ? 1 : 0 } ?? -1 }
        }
        var battery: Int? {
            get { rawBattery < 0 ? nil : Int(rawBattery) }
            set { rawBattery = newValue.map { Int16(clamping: max(0, $0)) } ?? -1 }
        }
        var doorOpenSinceMs: Int64? {
            get { rawDoorOpenSinceMs == .min ? nil : rawDoorOpenSinceMs }
            set { rawDoorOpenSinceMs = newValue ?? .min }
        }
        var lastExecutedCommandMs: Int64? {
            get { rawLastExecutedCommandMs == .min ? nil : rawLastExecutedCommandMs }
            set { rawLastExecutedCommandMs = newValue ?? .min }
        }
        var lastTamperMs: Int64? {
            get { rawLastTamperMs == .min ? nil : rawLastTamperMs }
            set { rawLastTamperMs = newValue ?? .min }
        }

        /// Whether `tick` has anything to do for this lock (checked without copying it).
        func tickIsDue(offlineBeforeMs: Int64, ajarBeforeMs: Int64, tamperBeforeMs: Int64) -> Bool {
            (lastStatusMs < offlineBeforeMs && !active.contains(.lockOffline))
                || (doorOpenSinceMs.map { $0 < ajarBeforeMs } == true && !active.contains(.doorAjar))
                || lastTamperMs.map { $0 < tamperBeforeMs } == true
        }
    }

    struct PoleHealth: Sendable {
        var lastSeenMs: Int64?
        var online: Bool?
        var illuminance: Double?
        var status: String?
        var active: AlarmKinds = []
        /// Recent telemetry, oldest first, bounded.
        var history: [DeviceReport.PoleTelemetry] = []
    }

    public static let historyLimit = 60

    public private(set) var site: Site
    public var policy: AlarmPolicy
    public var unlockForS: Int
    private var locks: LockHealthTable
    private var poles: [String: PoleHealth] = [:]
    /// Overstay episodes already raised, by space, keyed by the reservation end they follow.
    private var overstays: [String: Int64] = [:]
    /// (v1.1) Commands this gateway issued and whose `notAfter` has not passed: only an `executed`
    /// result for one of these makes a door opening legitimate (a lock cannot mask a forced door
    /// with a result for a command that never existed). Bounded by the commands of one TTL.
    private var issuedCommands: [String: IssuedCommand] = [:]
    /// The ids of `issuedCommands` in the order they were issued, from `issuedOrderStart` on:
    /// `tick` forgets the expired ones from the front, where rebuilding the dictionary copied
    /// every entry each second (tens of thousands at saturation). A command whose `notAfter` is
    /// earlier than one issued before it (a shortened TTL) is forgotten late, never early.
    private var issuedOrder: [(commandID: String, notAfterMs: Int64)] = []
    private var issuedOrderStart = 0
    /// Failed command results in each lock's open `command_failed` episode.
    private var commandFailures: [String: Int] = [:]
    public static let issuedCommandsLimit = 100_000

    struct IssuedCommand: Sendable {
        var lockID: String
        var notAfterMs: Int64
    }

    /// `startMs` is when the gateway began listening: a lock never heard from is offline
    /// `offlineAfterS` after that.
    public init(site: Site, policy: AlarmPolicy, unlockForS: Int, startMs: Int64) {
        self.site = site
        self.policy = policy
        self.unlockForS = unlockForS
        locks = LockHealthTable(inventory: site.locks, startMs: startMs)
        for poleID in site.poles.keys { poles[poleID] = PoleHealth() }
    }

    /// A new inventory (reload): known devices keep their state.
    public mutating func replaceSite(_ site: Site, nowMs: Int64) {
        self.site = site
        locks.replaceInventory(site.locks, nowMs: nowMs)
        poles = poles.filter { site.poles[$0.key] != nil }
        for poleID in site.poles.keys where poles[poleID] == nil { poles[poleID] = PoleHealth() }
    }

    public var onlineLocks: Int { locks.values.filter { $0.online == true }.count }
    public var onlinePoles: Int { poles.values.filter { $0.online == true || $0.lastSeenMs != nil }.count }

    public func activeAlarms(lockID: String) -> Set<Alarm.Kind> { locks[lockID]?.active.asSet ?? [] }
    /// Failed results in the lock's open `command_failed` episode (0 when none is open).
    public func commandFailures(lockID: String) -> Int { commandFailures[lockID] ?? 0 }

    /// A command the gateway handed to the broker for this lock.
    public mutating func commandIssued(lockID: String, commandID: String, notAfterMs: Int64) {
        guard issuedCommands.count < Self.issuedCommandsLimit,
            issuedOrder.count - issuedOrderStart < Self.issuedCommandsLimit
        else { return }
        issuedCommands[commandID] = IssuedCommand(lockID: lockID, notAfterMs: notAfterMs)
        issuedOrder.append((commandID, notAfterMs))
    }
    public func activeAlarms(poleID: String) -> Set<Alarm.Kind> { poles[poleID]?.active.asSet ?? [] }
    public func latestTelemetry(poleID: String) -> [DeviceReport.PoleTelemetry] { poles[poleID]?.history ?? [] }

    // MARK: Views

    /// A lock as operators see it (live state, status page, metrics): never a holder or credential.
    public struct LockView: Sendable, Hashable {
        public var id: String
        public var spaceID: String
        public var online: Bool?
        public var battery: Int?
        /// The last status heard (nil before the first).
        public var lastSeenMs: Int64?
        public var doorOpen: Bool?
        public var lockState: String?
        public var alarms: [Alarm.Kind]
    }

    public struct PoleView: Sendable, Hashable {
        public var id: String
        public var online: Bool?
        public var lastSeenMs: Int64?
        public var illuminance: Double?
        public var status: String?
        public var alarms: [Alarm.Kind]
        /// From the latest telemetry that carried each.
        public var motion: Bool?
        public var lampPower: String?
        public var lampLevel: Double?
    }

    public var lockIDs: [String] { site.locks.keys }
    public var poleIDs: [String] { poles.keys.sorted() }

    public func lockView(_ lockID: String) -> LockView? {
        guard let index = locks.inventory.index(of: lockID) else { return nil }
        let lock = locks[index]
        let spaceID = locks.lock(at: index).spaceID
        return LockView(
            id: lockID, spaceID: spaceID, online: lock.online, battery: lock.battery,
            lastSeenMs: lock.online == nil ? nil : lock.lastStatusMs, doorOpen: lock.doorOpen,
            lockState: lock.lockState, alarms: lock.active.sorted)
    }

    public func poleView(_ poleID: String) -> PoleView? {
        guard let pole = poles[poleID] else { return nil }
        return PoleView(
            id: poleID, online: pole.online, lastSeenMs: pole.lastSeenMs, illuminance: pole.illuminance,
            status: pole.status, alarms: pole.active.sorted,
            motion: pole.history.last { $0.motion != nil }?.motion,
            lampPower: pole.history.last { $0.powerState != nil }?.powerState,
            lampLevel: pole.history.last { $0.lightLevel != nil }?.lightLevel)
    }

    /// An operator acknowledged the alarm: its episode ends, and the next one raises it again.
    public mutating func acknowledge(_ kind: Alarm.Kind, lockID: String?, poleID: String?) {
        if let lockID, locks[lockID] != nil {
            locks[lockID]?.active.remove(kind)
            if kind == .commandFailed { commandFailures[lockID] = nil }
        }
        if let poleID, poles[poleID] != nil { poles[poleID]?.active.remove(kind) }
    }

    /// An alarm still open when the gateway stopped (from the store): the device's next report
    /// can end its episode, and it is not raised a second time meanwhile.
    public mutating func restoreOpen(_ kind: Alarm.Kind, lockID: String?, poleID: String?) {
        if let lockID, locks[lockID] != nil { locks[lockID]?.active.insert(kind) }
        if let poleID, poles[poleID] != nil { poles[poleID]?.active.insert(kind) }
    }

    // MARK: Locks

    public mutating func lockReport(_ report: DeviceReport, lockID: String, nowMs: Int64) -> [Action] {
        guard var lock = locks[lockID], let spaceID = site.locks[lockID]?.spaceID else { return [] }
        var actions: [Action] = []
        func raise(_ kind: Alarm.Kind, _ detail: String) {
            guard !lock.active.contains(kind) else { return }
            lock.active.insert(kind)
            actions.append(
                .raise(Alarm(kind: kind, lockID: lockID, spaceID: spaceID, timestampMs: nowMs, detail: detail)))
        }
        func clear(_ kind: Alarm.Kind, _ reason: String) {
            guard lock.active.remove(kind) != nil else { return }
            actions.append(.clear(kind, lockID: lockID, poleID: nil, reason: reason))
        }
        switch report {
        case .status(let online, let battery, _, _):
            lock.lastStatusMs = nowMs
            lock.online = online
            if online {
                clear(.lockOffline, "the lock reported online")
            } else {
                raise(.lockOffline, "the lock reported offline (Last Will)")
            }
            if let battery {
                lock.battery = battery
                if battery < policy.lowBatteryPercent {
                    raise(.lowBattery, "battery at \(battery) %")
                } else if battery >= policy.lowBatteryPercent + 5 {
                    clear(.lowBattery, "battery at \(battery) %")
                }
            }
        case .commandResult(let commandID, let result):
            if result == "executed" {
                // Only a command this gateway issued to this lock, still fresh, counts; once.
                guard let issued = issuedCommands[commandID], issued.lockID == lockID, nowMs <= issued.notAfterMs
                else { break }
                issuedCommands[commandID] = nil
                lock.lastExecutedCommandMs = nowMs
                clear(.commandFailed, "command \(commandID) executed")
                commandFailures[lockID] = nil
            } else {
                // One open episode per lock, whatever the number of failures (a lock reporting
                // fifty `bad_mac` raises one alarm); it ends with the next executed command.
                commandFailures[lockID, default: 0] += 1
                if !lock.active.contains(.commandFailed) {
                    lock.active.insert(.commandFailed)
                    actions.append(
                        .raise(
                            Alarm(
                                kind: .commandFailed, lockID: lockID, spaceID: spaceID, timestampMs: nowMs,
                                detail: "command \(commandID): \(result)")))
                }
            }
        case .door(let open):
            lock.doorOpen = open
            if open {
                if lock.doorOpenSinceMs == nil { lock.doorOpenSinceMs = nowMs }
                let windowMs = Int64(unlockForS + 10) * 1000
                let unlockedRecently = lock.lastExecutedCommandMs.map { nowMs - $0 <= windowMs } ?? false
                if !unlockedRecently { raise(.doorForced, "door opened without an executed unlock") }
            } else {
                lock.doorOpenSinceMs = nil
                clear(.doorForced, "the door closed")
                clear(.doorAjar, "the door closed")
            }
        case .lockState(let state):
            lock.lockState = state
            if state == "jammed" {
                raise(.jammed, "the lock reports it is jammed")
            } else {
                clear(.jammed, "the lock reports \(state)")
            }
        case .lockAlarm(let alarm):
            switch alarm {
            case "tamper":
                lock.lastTamperMs = nowMs
                raise(.tamper, "the lock reports tampering")
            case "jammed": raise(.jammed, "the lock reports it is jammed")
            default: raise(.doorForced, "the lock reports the door was forced open")
            }
        case .telemetry:
            break
        }
        locks[lockID] = lock
        return actions
    }

    /// The lock opened by itself (a PIN of its own keypad, a device profile's lock): the door
    /// opening next is not forced.
    public mutating func unlockedLocally(lockID: String, nowMs: Int64) {
        locks[lockID]?.lastExecutedCommandMs = nowMs
    }

    /// A device profile's write (a PIN slot) that the lock does not confirm: one open
    /// `command_failed` episode per lock, ended by `slotWritesConfirmed`.
    public mutating func slotWriteFailing(lockID: String, detail: String, nowMs: Int64) -> [Action] {
        guard var lock = locks[lockID], !lock.active.contains(.commandFailed) else { return [] }
        lock.active.insert(.commandFailed)
        locks[lockID] = lock
        return [
            .raise(
                Alarm(
                    kind: .commandFailed, lockID: lockID, spaceID: site.locks[lockID]?.spaceID, timestampMs: nowMs,
                    detail: detail))
        ]
    }

    public mutating func slotWritesConfirmed(lockID: String) -> [Action] {
        guard var lock = locks[lockID], lock.active.remove(.commandFailed) != nil else { return [] }
        locks[lockID] = lock
        return [.clear(.commandFailed, lockID: lockID, poleID: nil, reason: "the lock confirmed its PIN slots")]
    }

    /// A PIN lockout began at this lock.
    public func lockoutStarted(lockID: String, durationS: Int64, nowMs: Int64) -> [Action] {
        [
            .raise(
                Alarm(
                    kind: .bruteForce, lockID: lockID, spaceID: site.locks[lockID]?.spaceID, timestampMs: nowMs,
                    detail: "wrong PINs: keypad locked for \(durationS) s"))
        ]
    }

    /// A grant: light the entrance when it is dark at any of the space's poles.
    public func granted(lockID: String, nowMs: Int64) -> [Action] {
        guard let spaceID = site.locks[lockID]?.spaceID, let space = site.spaces[spaceID] else { return [] }
        return space.poleIDs.compactMap { poleID in
            guard let lux = poles[poleID]?.illuminance, lux < policy.darknessLux else { return nil }
            return .light(poleID: poleID, level: policy.welcomeLevel, forS: policy.welcomeForS)
        }
    }

    // MARK: Poles

    public mutating func poleReport(_ report: DeviceReport, poleID: String, nowMs: Int64) -> [Action] {
        guard var pole = poles[poleID] else { return [] }
        var actions: [Action] = []
        pole.lastSeenMs = nowMs
        switch report {
        case .status(let online, _, _, _):
            pole.online = online
        case .telemetry(let telemetry):
            if let lux = telemetry.illuminance { pole.illuminance = lux }
            pole.history.append(telemetry)
            if pole.history.count > Self.historyLimit {
                pole.history.removeFirst(pole.history.count - Self.historyLimit)
            }
            if let status = telemetry.status {
                pole.status = status
                if status == "ok" {
                    if pole.active.remove(.poleFault) != nil {
                        actions.append(.clear(.poleFault, lockID: nil, poleID: poleID, reason: "status ok"))
                    }
                } else if !pole.active.contains(.poleFault) {
                    pole.active.insert(.poleFault)
                    actions.append(
                        .raise(Alarm(kind: .poleFault, poleID: poleID, timestampMs: nowMs, detail: "status \(status)")))
                }
            }
        default:
            break
        }
        poles[poleID] = pole
        return actions
    }

    /// Someone is at a pole of `spaceID`; the store says when the space's last reservation ended
    /// and whether one is active now.
    public mutating func presence(
        spaceID: String, poleID: String, lastReservationEndMs: Int64?, reservationActive: Bool, nowMs: Int64
    ) -> [Action] {
        guard !reservationActive, let lastEnd = lastReservationEndMs,
            nowMs - lastEnd > policy.overstayAfterS * 1000, overstays[spaceID] != lastEnd
        else { return [] }
        overstays[spaceID] = lastEnd
        return [
            .raise(
                Alarm(
                    kind: .overstay, poleID: poleID, spaceID: spaceID, timestampMs: nowMs,
                    detail: "presence \((nowMs - lastEnd) / 60_000) min after the last reservation ended"))
        ]
    }

    // MARK: Time

    /// Alarms that come from time passing: offline locks, doors left open, tamper episodes ending.
    /// Runs every second under the monitor's lock, so it reads each lock in place and writes
    /// back only the few that changed: a site of 100k locks must not hold grants up.
    private mutating func forgetExpiredCommands(nowMs: Int64) {
        while issuedOrderStart < issuedOrder.count, issuedOrder[issuedOrderStart].notAfterMs < nowMs {
            let commandID = issuedOrder[issuedOrderStart].commandID
            if let issued = issuedCommands[commandID], issued.notAfterMs < nowMs { issuedCommands[commandID] = nil }
            issuedOrderStart += 1
        }
        if issuedOrderStart == issuedOrder.count {
            issuedOrder.removeAll(keepingCapacity: issuedOrder.count < 4096)
            issuedOrderStart = 0
        } else if issuedOrderStart > 4096, issuedOrderStart * 2 > issuedOrder.count {
            issuedOrder.removeFirst(issuedOrderStart)
            issuedOrderStart = 0
        }
    }

    /// Commands held as issued: not executed, and not yet forgotten by `tick`.
    public var issuedCommandCount: Int { issuedCommands.count }

    public mutating func tick(nowMs: Int64) -> [Action] {
        var actions: [Action] = []
        forgetExpiredCommands(nowMs: nowMs)
        let offlineBeforeMs = nowMs - policy.offlineAfterS * 1000
        let ajarBeforeMs = nowMs - policy.maxOpenS * 1000
        let tamperBeforeMs = nowMs - policy.tamperQuietS * 1000
        for index in locks.indices {
            let due = locks[index].tickIsDue(
                offlineBeforeMs: offlineBeforeMs, ajarBeforeMs: ajarBeforeMs, tamperBeforeMs: tamperBeforeMs)
            if due {
                let lockID = locks.lock(at: index).id
                let spaceID: String? = locks.lock(at: index).spaceID
                var lock = locks[index]
                if lock.lastStatusMs < offlineBeforeMs, !lock.active.contains(.lockOffline) {
                    lock.active.insert(.lockOffline)
                    lock.online = false
                    actions.append(
                        .raise(
                            Alarm(
                                kind: .lockOffline, lockID: lockID, spaceID: spaceID, timestampMs: nowMs,
                                detail: "no status for \(policy.offlineAfterS) s")))
                }
                if let since = lock.doorOpenSinceMs, since < ajarBeforeMs, !lock.active.contains(.doorAjar) {
                    lock.active.insert(.doorAjar)
                    actions.append(
                        .raise(
                            Alarm(
                                kind: .doorAjar, lockID: lockID, spaceID: spaceID, timestampMs: nowMs,
                                detail: "door open for more than \(policy.maxOpenS) s")))
                }
                if let tamper = lock.lastTamperMs, tamper < tamperBeforeMs {
                    if lock.active.remove(.tamper) != nil {
                        actions.append(
                            .clear(
                                .tamper, lockID: lockID, poleID: nil,
                                reason: "no tampering reported for \(policy.tamperQuietS) s"))
                    }
                    lock.lastTamperMs = nil
                }
                locks[index] = lock
            }
        }
        return actions
    }
}
