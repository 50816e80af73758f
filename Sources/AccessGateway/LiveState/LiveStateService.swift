import AccessCore
import AccessProtocol
import Logging
import MQTT
import ServiceLifecycle
import Synchronization

/// Publishes the site's live state, retained, for operators, dashboards and Home Assistant:
/// each lock's and pole's state when it changed (`R/gateway/<id>/state/…`), and the open alarms
/// (`R/alarms/active`). At most `perTick` messages a second, in tenths, and only while the
/// connection's outbound backlog is small (`OutboundBudget.liveStateBacklog`), so a site of 100k
/// locks starts without flooding the broker and its dashboards never delay a door; what did not
/// fit goes out in the next ticks.
public final class LiveStateService: Service, Sendable {
    let context: GatewayContext
    let perTick: Int
    /// Retained messages still to publish before any state: discovery configs (all of them at
    /// start and reload), and empty payloads that clear what a device no longer in the inventory
    /// left retained.
    private let discovery = Mutex<[HomeAssistantDiscovery.Config]>([])
    /// The devices whose state this run published, so that a reload can clear the ones removed
    /// (the lock inventory itself, not a set of its 100k ids).
    private let known = Mutex<(locks: LockInventory, poles: Set<String>)>((LockInventory([]), []))

    /// Ticks a second: what changed is taken once a second (so a device's state goes out at
    /// most about once a second), then published in slices, never as one burst ahead of the
    /// decisions and commands that share the connection.
    static let slicesPerSecond = 10
    var perSlice: Int { max(1, perTick / Self.slicesPerSecond) }
    /// This second's changes, still to publish.
    private let batch = Mutex(LiveStateChanges.Pending(everything: false))
    private let slices = Atomic<Int>(0)

    init(context: GatewayContext, perTick: Int = 2000) {
        self.context = context
        self.perTick = max(1, perTick)
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(1000 / Self.slicesPerSecond))
                guard !Task.isCancelled else { return }
                self.publishChanges()
            }
        }
    }

    /// Once a second: every device after a start or reload, and this second's changes (up to
    /// `perTick`) unless the last second's are still going out.
    private func startSecond() {
        let monitor = context.monitor
        if monitor.liveState.takeEverything() {
            let (allLocks, allPoles) = monitor.read { ($0.site.locks, Set($0.poleIDs)) }
            monitor.liveState.putBack(locks: allLocks.lazy.map(\.id), poles: allPoles, alarms: true)
            let removed = known.withLock { known -> (locks: Set<String>, poles: Set<String>) in
                defer { known = (allLocks, allPoles) }
                let removedLocks = known.locks.lazy.map(\.id).filter { allLocks.index(of: $0) == nil }
                return (Set(removedLocks), known.poles.subtracting(allPoles))
            }
            queueDiscovery(removedLocks: removed.locks, removedPoles: removed.poles)
        }
        batch.withLock { batch in
            guard batch.isEmpty else { return }
            batch = monitor.liveState.take(limit: perTick)
        }
    }

    /// One slice: up to `perSlice` messages of this second's changes; the rest waits for the
    /// next slices.
    func publishChanges() {
        let monitor = context.monitor
        if slices.wrappingAdd(1, ordering: .relaxed).oldValue % Self.slicesPerSecond == 0 { startSecond() }
        let nowMs = context.nowMs()
        let gatewayID = context.gatewayID
        // Decisions and commands first: states take only the room a congested connection has.
        var budget = context.publisher.outboundBacklog < OutboundBudget.liveStateBacklog ? perSlice : 0
        // Discovery first: Home Assistant creates the entities, then reads the retained states.
        let configs = discovery.withLock { queue -> [HomeAssistantDiscovery.Config] in
            let taken = Array(queue.prefix(budget))
            queue.removeFirst(taken.count)
            return taken
        }
        for (index, config) in configs.enumerated() where !send(config.topic, config.payload) {
            discovery.withLock { $0.insert(contentsOf: configs[index...], at: 0) }
            break
        }
        budget -= configs.count
        // The alarm list goes whatever the budget.
        let changes = batch.withLock { $0.split(limit: budget) }
        var unsent: (locks: [String], poles: [String], alarms: Bool) = ([], [], false)
        if changes.alarms {
            let open = monitor.openAlarms.map { ($0.alarmID, $0.alarm) }
            if !send(context.topics.activeAlarms, LiveStateMessages.activeAlarms(open, ts: nowMs)) {
                unsent.alarms = true
            }
        }
        for lockID in changes.locks.sorted() {
            guard budget > 0 else {
                unsent.locks.append(lockID)
                continue
            }
            guard let view = monitor.read({ $0.lockView(lockID) }) else { continue }
            budget -= 1
            let payload = LiveStateMessages.lock(
                lockID: lockID, spaceID: view.spaceID, online: view.online, doorOpen: view.doorOpen,
                latch: view.lockState, battery: view.battery, lastSeenMs: view.lastSeenMs,
                alarms: view.alarms.map(\.rawValue), lastDecision: monitor.liveState.lastDecision(lockID: lockID),
                ts: nowMs)
            if !send(context.topics.lockState(gatewayID: gatewayID, lockID: lockID), payload) {
                unsent.locks.append(lockID)
            }
        }
        for poleID in changes.poles.sorted() {
            guard budget > 0 else {
                unsent.poles.append(poleID)
                continue
            }
            guard let view = monitor.read({ $0.poleView(poleID) }) else { continue }
            budget -= 1
            let payload = LiveStateMessages.pole(
                poleID: poleID, online: view.online, lastSeenMs: view.lastSeenMs, illuminance: view.illuminance,
                status: view.status, alarms: view.alarms.map(\.rawValue), motion: view.motion,
                lampPower: view.lampPower, lampLevel: view.lampLevel, ts: nowMs)
            if !send(context.topics.poleState(gatewayID: gatewayID, poleID: poleID), payload) {
                unsent.poles.append(poleID)
            }
        }
        if !unsent.locks.isEmpty || !unsent.poles.isEmpty || unsent.alarms {
            monitor.liveState.putBack(locks: unsent.locks, poles: unsent.poles, alarms: unsent.alarms)
        }
    }

    /// Retained, QoS 1; false when the connection could not take it (tried again next tick).
    private func send(_ topic: String, _ payload: String) -> Bool {
        do {
            try context.publisher.publish(MQTTMessage(topic: topic, payload: payload, retain: true))
            return true
        } catch {
            return false
        }
    }

    /// Every entity's config, when Home Assistant discovery is on; and for devices gone from the
    /// inventory, empty retained payloads on their state and config topics (Home Assistant then
    /// removes the entities).
    private func queueDiscovery(removedLocks: Set<String>, removedPoles: Set<String>) {
        let configuration = context.settings.configuration
        let discovery = HomeAssistantDiscovery(
            prefix: configuration.homeAssistant.prefix, topics: context.topics, siteID: configuration.site.id,
            gatewayID: context.gatewayID, remoteOpen: configuration.homeAssistant.remoteOpen)
        var clears: [HomeAssistantDiscovery.Config] = []
        for lockID in removedLocks.sorted() {
            clears.append(
                .init(topic: context.topics.lockState(gatewayID: context.gatewayID, lockID: lockID), payload: ""))
            if configuration.homeAssistant.enabled {
                clears += discovery.lockConfigs(lockID: lockID, spaceID: "").map { .init(topic: $0.topic, payload: "") }
            }
        }
        for poleID in removedPoles.sorted() {
            clears.append(
                .init(topic: context.topics.poleState(gatewayID: context.gatewayID, poleID: poleID), payload: ""))
            if configuration.homeAssistant.enabled {
                clears += discovery.poleConfigs(poleID: poleID).map { .init(topic: $0.topic, payload: "") }
            }
        }
        guard configuration.homeAssistant.enabled else {
            self.discovery.withLock { $0 = clears }
            return
        }
        // The lock entity's other form (read-only sensor or lock) may be retained from before
        // `remoteOpen` was switched: cleared, so Home Assistant does not show both.
        let otherForm = HomeAssistantDiscovery(
            prefix: configuration.homeAssistant.prefix, topics: context.topics, siteID: configuration.site.id,
            gatewayID: context.gatewayID, remoteOpen: !configuration.homeAssistant.remoteOpen)
        var configs = clears + discovery.gatewayConfigs
        for lock in configuration.site.locks.values {
            if let stale = otherForm.lockConfigs(lockID: lock.id, spaceID: lock.spaceID).first {
                configs.append(.init(topic: stale.topic, payload: ""))
            }
            configs += discovery.lockConfigs(lockID: lock.id, spaceID: lock.spaceID)
        }
        for poleID in configuration.site.poles.keys.sorted() { configs += discovery.poleConfigs(poleID: poleID) }
        self.discovery.withLock { $0 = configs }
    }
}
