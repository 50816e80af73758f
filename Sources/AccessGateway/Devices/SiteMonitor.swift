import AccessConfiguration
import AccessCore
import AccessEngine
import AccessProtocol
import Logging
import MQTT
import Synchronization

/// The site's device monitor (pure, in AccessCore) behind one lock, and the performer of what it
/// decides: alarms published on `R/alarms`, welcome lighting signed and sent to poles, and each
/// device's open alarms handed to the device-state writer.
final class SiteMonitor: Sendable {
    private let monitor: Mutex<DeviceMonitor>
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

    /// Counts, logs and publishes an alarm (also for alarms that are not the device monitor's).
    func raise(_ alarm: Alarm) {
        metrics.alarms[alarm.kind]?.increment()
        let alarmID = Identifier.random(prefix: "a-")
        logger.notice(
            "alarm",
            metadata: [
                "type": "\(alarm.kind.rawValue)", "lock": "\(alarm.lockID ?? "-")",
                "pole": "\(alarm.poleID ?? "-")", "detail": "\(alarm.detail)",
            ])
        publish(MQTTMessage(topic: topics.alarms, payload: alarm.payload(alarmID: alarmID)))
    }

    private func publish(_ message: MQTTMessage) {
        publisher.publish(message, countingDropsIn: outboundDrops, logger: logger)
    }
}
