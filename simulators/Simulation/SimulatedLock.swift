import AccessCore
import AccessProtocol
import Crypto
import Foundation
import Logging
import MQTT
import Synchronization

/// A lock on the wire: retained status with a Last Will and heartbeats, credentials presented
/// on demand (the decision comes back on a v5 response topic, matched by correlation data),
/// commands executed only as `LockFirmware` allows, and a door that opens after an unlock and
/// closes again, or is forced, left ajar, jammed, tampered with, or loses power.
public final class SimulatedLock: Sendable {
    public let lockID: String
    public let spaceID: String
    let topics: SiteTopics
    let client: MQTTClient
    private let firmware: Mutex<LockFirmware>
    private let state = Mutex(State())
    private let doorOpenFor: Duration

    struct State {
        var battery = 100
        var waiters: [String: CheckedContinuation<[String: Any]?, Never>] = [:]
        var results: [(commandID: String?, result: LockFirmware.Result)] = []
        var commands: [[UInt8]] = []
    }

    public init(
        broker: BrokerEndpoint, siteID: String, prefix: String = SiteTopics.defaultPrefix, lockID: String,
        spaceID: String, lockKey: SymmetricKey, battery: Int = 100, doorOpenFor: Duration = .milliseconds(300),
        logger: Logger = Logger(label: "lock-sim")
    ) throws {
        self.lockID = lockID
        self.spaceID = spaceID
        self.topics = SiteTopics(prefix: prefix, siteID: siteID)
        self.doorOpenFor = doorOpenFor
        firmware = Mutex(LockFirmware(siteID: siteID, lockID: lockID, lockKey: lockKey))
        var configuration = broker.configuration(clientID: "lock-sim-\(siteID)-\(lockID)", keepAliveSeconds: 10)
        configuration.will = MQTTMessage(
            topic: topics.status(lockID: lockID), payload: DeviceMessages.offline, retain: true)
        client = try MQTTClient(configuration: configuration, logger: logger)
        state.withLock { $0.battery = battery }
    }

    /// Connects, subscribes to its commands and replies, and announces itself online.
    public func start() async throws {
        try await client.connect()
        let inbound = client.messages
        Task { [self] in
            for await message in inbound { await self.receive(message) }
        }
        try await client.subscribe(topics.command(lockID: lockID), qos: .atLeastOnce)
        try await client.subscribe(topics.reply(lockID: lockID), qos: .atLeastOnce)
        try await publishStatus()
    }

    public func publishStatus() async throws {
        let battery = state.withLock { $0.battery }
        try await client.publishAcknowledged(
            MQTTMessage(
                topic: topics.status(lockID: lockID),
                payload: DeviceMessages.status(battery: battery, firmware: "sim-1.0", rssi: -60, ts: nowMs()),
                retain: true))
    }

    /// A heartbeat that also drains the battery a little.
    public func heartbeat(drain: Int = 0) async throws {
        state.withLock { $0.battery = max(0, $0.battery - drain) }
        try await publishStatus()
    }

    public func setBattery(_ percent: Int) async throws {
        state.withLock { $0.battery = percent }
        try await publishStatus()
    }

    /// Presents a credential and waits for the decision (nil after `timeout`).
    public func present(_ credential: Credential, requestID: String, timeout: Duration = .seconds(5)) async throws
        -> [String: Any]?
    {
        let payload = AccessRequest(requestID: requestID, credential: credential, timestampMs: nowMs()).payload
        var properties = MQTTPublishProperties()
        properties.responseTopic = topics.reply(lockID: lockID)
        properties.correlationData = Array(requestID.utf8)
        let client = self.client
        let timeoutTask = Task { [self] in
            try? await Task.sleep(for: timeout)
            self.resume(requestID, with: nil)
        }
        defer { timeoutTask.cancel() }
        return await withCheckedContinuation { continuation in
            state.withLock { $0.waiters[requestID] = continuation }
            do {
                try client.publish(
                    MQTTMessage(topic: topics.request(lockID: lockID), payload: payload, properties: properties))
            } catch {
                resume(requestID, with: nil)
            }
        }
    }

    private func resume(_ requestID: String, with decision: [String: Any]?) {
        let waiter = state.withLock { $0.waiters.removeValue(forKey: requestID) }
        nonisolated(unsafe) let decision = decision
        waiter?.resume(returning: decision)
    }

    private func receive(_ message: MQTTMessage) async {
        if message.topic == topics.reply(lockID: lockID) {
            let requestID = message.properties.correlationData.map { String(decoding: $0, as: UTF8.self) } ?? ""
            let decision = (try? JSONSerialization.jsonObject(with: Data(message.payload))) as? [String: Any]
            resume(requestID, with: decision)
        } else if message.topic == topics.command(lockID: lockID) {
            await execute(message.payload)
        }
    }

    /// Firmware checks, then `command_result`; an executed unlock opens the door for a while.
    func execute(_ payload: [UInt8]) async {
        let (commandID, result) = firmware.withLock { $0.receive(payload, nowMs: nowMs()) }
        state.withLock {
            $0.results.append((commandID, result))
            $0.commands.append(payload)
        }
        publishEvent(DeviceMessages.commandResult(commandID: commandID, result: result.rawValue, ts: nowMs()))
        guard result == .executed else { return }
        publishEvent(DeviceMessages.lockState("unlocked", ts: nowMs()))
        publishEvent(DeviceMessages.door(open: true, ts: nowMs()))
        let doorOpenFor = self.doorOpenFor
        Task { [self] in
            try? await Task.sleep(for: doorOpenFor)
            self.publishEvent(DeviceMessages.door(open: false, ts: nowMs()))
            self.publishEvent(DeviceMessages.lockState("locked", ts: nowMs()))
        }
    }

    func publishEvent(_ json: String) {
        try? client.publish(MQTTMessage(topic: topics.event(lockID: lockID), payload: json))
    }

    /// Every command this lock received, as received (an attacker's capture).
    /// What the firmware did with the command `commandID`, once it arrives.
    public func waitForCommandResult(commandID: String, timeout: Duration) async -> LockFirmware.Result? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let found = commandResults.first(where: { $0.commandID == commandID }) { return found.result }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return commandResults.first { $0.commandID == commandID }?.result
    }

    public var receivedCommands: [[UInt8]] { state.withLock { $0.commands } }
    public var commandResults: [(commandID: String?, result: LockFirmware.Result)] { state.withLock { $0.results } }

    // MARK: Misbehaviour on request

    public func forceDoorOpen() { publishEvent(DeviceMessages.door(open: true, ts: nowMs())) }
    public func closeDoor() { publishEvent(DeviceMessages.door(open: false, ts: nowMs())) }
    public func jam() { publishEvent(DeviceMessages.lockState("jammed", ts: nowMs())) }
    public func tamper() { publishEvent(DeviceMessages.alarm("tamper", ts: nowMs())) }

    /// Loses power: the broker sees the connection drop and publishes the Last Will.
    public func powerCut() async { await client.shutdownAbruptly() }

    public func stop() async { await client.shutdown() }

    /// Whether its connection is up (false after `powerCut`).
    public var isOnline: Bool { client.isConnected }
}

func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
