import AccessConfiguration
import AccessCore
import AccessEngine
import AccessProtocol
import AccessStore
import Logging
import MQTT
import Synchronization

/// The site's device monitor (pure, in AccessCore) behind one lock, and the performer of what it
/// decides: alarms published on `R/alarms` and their ends on `R/alarms/cleared`, the open ones
/// kept (`ActiveAlarms`) and written to the store's history, welcome lighting signed and sent to
/// poles, and which devices' live state changed (`LiveStateService` publishes it).
final class SiteMonitor: Sendable {
    private let monitor: Mutex<DeviceMonitor>
    private let activeAlarms = Mutex(ActiveAlarms())
    let liveState: LiveStateChanges
    private let publisher: any MessagePublisher
    private let topics: SiteTopics
    private let settings: GatewaySettings
    private let metrics: GatewayMetrics
    private let logger: Logger
    private let nowMs: @Sendable () -> Int64
    let stateWriter: DeviceStateWriter
    private let outboundDrops: DropReporter

    init(
        configuration: GatewayConfiguration, startMs: Int64, publisher: any MessagePublisher, topics: SiteTopics,
        settings: GatewaySettings, metrics: GatewayMetrics, logger: Logger, nowMs: @escaping @Sendable () -> Int64,
        outboundDrops: DropReporter
    ) {
        self.outboundDrops = outboundDrops
        liveState = LiveStateChanges(inventory: configuration.site.locks)
        monitor = Mutex(
            DeviceMonitor(
                site: configuration.site, policy: configuration.alarms, unlockForS: configuration.policy.unlockForS,
                startMs: startMs))
        self.publisher = publisher
        self.topics = topics
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
        self.nowMs = nowMs
        self.stateWriter = DeviceStateWriter()
    }

    /// Runs `change` on the monitor and performs the actions it returns.
    func update(_ change: (inout DeviceMonitor) -> [DeviceMonitor.Action]) {
        perform(monitor.withLock { change(&$0) })
    }

    func read<Result>(_ body: (DeviceMonitor) -> Result) -> Result {
        monitor.withLock { body($0) }
    }

    func replaceSite(_ configuration: GatewayConfiguration, nowMs: Int64) {
        liveState.replaceInventory(configuration.site.locks)
        monitor.withLock {
            $0.replaceSite(configuration.site, nowMs: nowMs)
            $0.policy = configuration.alarms
            $0.unlockForS = configuration.policy.unlockForS
        }
    }

    /// Hands the device's current open alarms to the writer (for `accessctl devices`).
    func noteOpenAlarms(lockID: String) {
        let open = monitor.withLock { $0.activeAlarms(lockID: lockID) }.map(\.rawValue)
        stateWriter.openAlarms(kind: "lock", id: lockID, alarms: open)
    }

    func noteOpenAlarms(poleID: String) {
        let open = monitor.withLock { $0.activeAlarms(poleID: poleID) }.map(\.rawValue)
        stateWriter.openAlarms(kind: "pole", id: poleID, alarms: open)
    }

    private func perform(_ actions: [DeviceMonitor.Action]) {
        guard !actions.isEmpty else { return }
        let nowMs = self.nowMs()
        for action in actions {
            switch action {
            case .raise(let alarm):
                if let lockID = alarm.lockID {
                    noteOpenAlarms(lockID: lockID)
                } else if let poleID = alarm.poleID {
                    noteOpenAlarms(poleID: poleID)
                }
                raise(alarm)
            case .clear(let kind, let lockID, let poleID, let reason):
                if let lockID { noteOpenAlarms(lockID: lockID) }
                if let poleID { noteOpenAlarms(poleID: poleID) }
                guard let entry = activeAlarms.withLock({ $0.cleared(kind, lockID: lockID, poleID: poleID) }) else {
                    continue
                }
                publishCleared(entry, by: "device", operatorName: nil, note: reason, nowMs: nowMs)
            case .light(let poleID, let level, let forS):
                let snapshot = settings.current
                guard let key = snapshot.poleKeys[poleID] else { continue }
                let ttl = snapshot.configuration.policy.commandTTLMs
                let command = PoleCommand(
                    siteID: snapshot.configuration.site.id, poleID: poleID, commandID: AccessEngine.randomCommandID(),
                    level: level, forS: forS, issuedAtMs: nowMs, ttlMs: ttl, poleKey: key)
                var properties = MQTTPublishProperties()
                properties.messageExpiryInterval = UInt32(clamping: (ttl + 999) / 1000)
                publish(
                    MQTTMessage(
                        topic: topics.poleCommand(poleID: poleID), payload: command.payload, properties: properties))
                logger.info(
                    "welcome lighting", metadata: ["pole": "\(poleID)", "level": "\(level)", "forS": "\(forS)"])
            }
        }
    }

    /// Counts, logs and publishes an alarm (also for alarms that are not the device monitor's),
    /// keeps it open until its end, and writes it to the history.
    func raise(_ alarm: Alarm) {
        metrics.alarms[alarm.kind]?.increment()
        let alarmID = Identifier.random(prefix: "a-")
        logger.notice(
            "alarm",
            metadata: [
                "alarm": "\(alarmID)", "type": "\(alarm.kind.rawValue)", "lock": "\(alarm.lockID ?? "-")",
                "pole": "\(alarm.poleID ?? "-")", "detail": "\(alarm.detail)",
            ])
        let (replaced, evicted) = activeAlarms.withLock { $0.raised(alarm, alarmID: alarmID) }
        stateWriter.alarmEvent(.raised(alarmID: alarmID, alarm))
        for old in [replaced, evicted].compactMap(\.self) {
            stateWriter.alarmEvent(
                .cleared(
                    alarmID: old.alarmID, atMs: alarm.timestampMs, by: "superseded", operatorName: nil,
                    note: "raised again as \(alarmID)"))
        }
        publish(MQTTMessage(topic: topics.alarms, payload: alarm.payload(alarmID: alarmID)))
        liveState.alarmChanged(lockID: alarm.lockID, poleID: alarm.poleID)
    }

    /// An operator's acknowledgement (`accessctl alarms ack`): the alarm ends with their name and
    /// note, and the device's episode with it (the next one raises a new alarm). False when the
    /// alarm is not open here.
    func acknowledge(alarmID: String, operatorName: String, note: String) -> Bool {
        guard let entry = activeAlarms.withLock({ $0.acknowledged(alarmID: alarmID) }) else { return false }
        let alarm = entry.alarm
        monitor.withLock { $0.acknowledge(alarm.kind, lockID: alarm.lockID, poleID: alarm.poleID) }
        if let lockID = alarm.lockID { noteOpenAlarms(lockID: lockID) }
        if let poleID = alarm.poleID { noteOpenAlarms(poleID: poleID) }
        publishCleared(entry, by: "operator", operatorName: operatorName, note: note, nowMs: nowMs())
        return true
    }

    /// Alarms open when the gateway last stopped: open again here, ended by the device's next
    /// report or an operator, and not raised twice meanwhile.
    func restore(_ open: [AccessStore.StoredAlarm]) {
        for stored in open {
            let alarm = stored.alarm
            activeAlarms.withLock { _ = $0.raised(alarm, alarmID: stored.alarmID) }
            monitor.withLock { $0.restoreOpen(alarm.kind, lockID: alarm.lockID, poleID: alarm.poleID) }
            liveState.alarmChanged(lockID: alarm.lockID, poleID: alarm.poleID)
        }
    }

    /// The open alarms, oldest first.
    var openAlarms: [ActiveAlarms.Entry] { activeAlarms.withLock { $0.entries } }

    private func publishCleared(
        _ entry: ActiveAlarms.Entry, by: String, operatorName: String?, note: String, nowMs: Int64
    ) {
        let alarm = entry.alarm
        logger.notice(
            "alarm cleared",
            metadata: [
                "alarm": "\(entry.alarmID)", "type": "\(alarm.kind.rawValue)", "lock": "\(alarm.lockID ?? "-")",
                "pole": "\(alarm.poleID ?? "-")", "by": "\(operatorName.map { "operator \($0)" } ?? by)",
                "note": "\(note)",
            ])
        metrics.alarmsCleared[by]?.increment()
        stateWriter.alarmEvent(
            .cleared(alarmID: entry.alarmID, atMs: nowMs, by: by, operatorName: operatorName, note: note))
        publish(
            MQTTMessage(
                topic: topics.clearedAlarms,
                payload: LiveStateMessages.alarmCleared(
                    alarmID: entry.alarmID, alarm: alarm, clearedBy: by, operatorName: operatorName, note: note,
                    ts: nowMs)))
        liveState.alarmChanged(lockID: alarm.lockID, poleID: alarm.poleID)
    }

    private func publish(_ message: MQTTMessage) {
        publisher.publish(message, countingDropsIn: outboundDrops, logger: logger)
    }
}
