import AccessCore
import AccessProtocol
import Crypto
import Foundation
import Logging
import MQTT
import MQTTTesting
import Synchronization

/// Plays a day at a site against a real gateway and checks every outcome against the plan.
public struct ScenarioRunner: Sendable {
    public struct Options: Sendable {
        public var spaces = 50
        public var locks = 80
        public var poles = 30
        public var bookings = 2000
        public var seed: UInt64 = 1
        /// Gateway executable; the runner starts it with its own config, keys and store.
        public var gatewayExecutable: String
        /// An existing broker (host, port); nil starts a private mosquitto on loopback.
        public var broker: (host: String, port: Int)?
        /// Requests in flight per lock are one; this spaces them out (the lock's budget is 10/s).
        public var perLockInterval: Duration = .milliseconds(120)
        public var progress: (@Sendable (String) -> Void)?
        /// The simulated devices' and observers' MQTT clients log here.
        public var logger = Logger(label: "scenario")

        public init(gatewayExecutable: String) { self.gatewayExecutable = gatewayExecutable }
    }

    public struct Report: Sendable {
        public var lines: [String] = []
        public var mismatches: [String] = []
        public var passed: Bool { mismatches.isEmpty }
    }

    let options: Options

    public init(options: Options) { self.options = options }

    public func run() async throws -> Report {
        let progress = options.progress ?? { _ in }
        let logger = options.logger
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("scenario-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer {
            if ProcessInfo.processInfo.environment["SCENARIO_KEEP"] == nil {
                try? FileManager.default.removeItem(atPath: directory)
            }
        }

        var privateBroker: MosquittoBroker?
        let broker: (host: String, port: Int)
        if let given = options.broker {
            broker = given
        } else {
            let started = try MosquittoBroker.start()
            privateBroker = started
            broker = ("127.0.0.1", started.port)
        }
        defer { privateBroker?.tearDown() }

        // Keys: the site's secrets and the backend's own issuer key.
        let siteKey = SymmetricKey(size: .bits256)
        let pinKey = SymmetricKey(size: .bits256)
        try writeSecret(siteKey, to: directory + "/site.key")
        try writeSecret(pinKey, to: directory + "/pin.key")
        let siteID = "site-sim"
        let topics = SiteTopics(siteID: siteID)
        let httpPort = try LoopbackPort.free()
        let backend = BookingBackend(
            siteID: siteID, kid: "sim-1", issuer: "https://booking.sim", privateKey: .init(), pinKey: pinKey)
        let plan = try ScenarioPlan(
            spaces: options.spaces, locks: options.locks, poles: options.poles, bookings: options.bookings,
            seed: options.seed, backend: backend, nowMs: nowMs())
        progress("plan: \(plan.bookingLines.count) booking messages, \(plan.requests.count) requests")
        // The mixed site: one lock of each device profile, in spaces of their own.
        let dialects = ProfileEpisode(backend: backend, nowMs: nowMs())

        let yaml = """
            gateway: {id: gw-sim}
            site:
              id: \(siteID)
              spaces: [\((plan.spaces + dialects.spaces).joined(separator: ", "))]
              locks: [\((plan.locks.map { "\($0.id)@\($0.space)" } + dialects.lockEntries).joined(separator: ", "))]
              poles: [\(plan.poles.map { "\($0.id)@\($0.space)" }.joined(separator: ", "))]
            issuers: ["\(backend.issuerSetting)"]
            keys: {siteKeyFile: \(directory)/site.key, pinKeyFile: \(directory)/pin.key}
            broker: {host: \(broker.host), port: \(broker.port), bookings: {sessionExpiryS: 0}}
            database: {path: \(directory)/access.sqlite, synchronous: full}
            http: {listen: "127.0.0.1:\(httpPort)"}
            log: {level: notice}
            """
        try yaml.write(toFile: directory + "/gateway.yaml", atomically: true, encoding: .utf8)

        // A broker that outlived an earlier run (scripts/run.sh keeps its broker's persistence)
        // still holds that run's retained statuses and audit head for this site: cleared first,
        // or the new gateway would rightly see a foreign audit head and stale Last Wills.
        try await Self.clearRetained(
            under: topics.everything, broker: broker, clientID: "scenario-cleaner-\(options.seed)")

        // The observer: alarms, decisions and pole commands as they cross the broker.
        let observer = try MQTTClient(
            configuration: .init(host: broker.host, port: broker.port, clientID: "scenario-observer-\(options.seed)"),
            logger: logger)
        try await observer.connect()
        defer { Task { await observer.shutdown() } }
        let seen = StreamRecorder(observer.messages)
        try await observer.subscribe(topics.alarms)
        try await observer.subscribe(topics.gatewayStatuses)
        try await observer.subscribe(topics.poleCommands)

        var gateway = try ChildProcess(
            executable: options.gatewayExecutable, arguments: ["--config", directory + "/gateway.yaml"],
            outputFile: URL(fileURLWithPath: directory + "/gateway.log"))
        defer { gateway.terminate(SIGTERM, grace: .seconds(10)) }
        let online = await seen.first(timeout: .seconds(30)) {
            $0.topic == topics.gatewayStatus(gatewayID: "gw-sim")
                && $0.payloadString?.contains("\"online\":true") == true
        }
        guard online != nil else {
            let log = (try? String(contentsOfFile: directory + "/gateway.log", encoding: .utf8)) ?? ""
            throw ScenarioError("the gateway did not come online:\n\(log.suffix(2000))")
        }
        progress("gateway online")
        let accessctl = URL(fileURLWithPath: options.gatewayExecutable).deletingLastPathComponent()
            .appendingPathComponent("accessctl").path
        try await ProfileEpisode.registerCards(accessctl: accessctl, config: directory + "/gateway.yaml")

        // Devices.
        let endpoint = BrokerEndpoint(host: broker.host, port: broker.port)
        let deviceKeys = DeviceKeys(siteKey: siteKey, siteID: siteID)
        var locks: [String: SimulatedLock] = [:]
        for lock in plan.locks {
            let simulated = try SimulatedLock(
                broker: endpoint, siteID: siteID, lockID: lock.id, spaceID: lock.space,
                lockKey: deviceKeys.lockKey(lockID: lock.id), logger: logger)
            try await simulated.start()
            locks[lock.id] = simulated
        }
        var poles: [String: SimulatedPole] = [:]
        for pole in plan.poles {
            let simulated = try SimulatedPole(
                broker: endpoint, siteID: siteID, poleID: pole.id, poleKey: deviceKeys.poleKey(poleID: pole.id),
                logger: logger)
            try await simulated.start()
            try await simulated.report(secondOfDay: 0, lux: plan.darkSpaces.contains(pole.space) ? 2 : 500)
            poles[pole.id] = simulated
        }
        let dialectDevices = try await dialects.start(
            endpoint: endpoint, siteID: siteID, deviceKeys: deviceKeys, logger: logger)
        progress(
            "\(locks.count) locks and \(poles.count) poles online, and \(ProfileEpisode.doors.count) device-profile locks"
        )

        // The backend (its v1.1 feed, kept on disk) publishes every booking before anyone arrives.
        let feed = try BookingFeedBackend(
            broker: endpoint, siteID: siteID, clientID: "booking-sim-\(options.seed)",
            feedFile: directory + "/feed.ndjson", logger: logger)
        try await feed.start()
        defer { Task { await feed.stop() } }
        for line in plan.bookingLines {
            guard case .success(let message) = BookingMessage.parse(Array(line.utf8)) else {
                throw ScenarioError("the plan made a booking message the contract rejects: \(line)")
            }
            try await feed.publish(message)
        }
        for message in dialects.messages { try await feed.publish(message) }
        let published = plan.bookingLines.count + dialects.messages.count
        progress("\(published) booking messages published")
        // Bookings travel on the gateway's own booking connection, not in order with requests:
        // wait until the gateway has applied every one (its booking counter, on /metrics).
        guard await GatewayProbe(port: httpPort).waitForBookings(published, timeout: .seconds(60))
        else { throw ScenarioError("the gateway did not apply the \(published) booking messages") }

        // Holders and attackers, one request at a time per lock, locks in parallel.
        var queues: [String: [(Int, PlannedRequest)]] = [:]
        for (index, request) in plan.requests.enumerated() {
            queues[request.lockID, default: []].append((index, request))
        }
        let tally = Tally()
        let total = plan.requests.count
        let interval = options.perLockInterval
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (lockID, queue) in queues {
                guard let lock = locks[lockID] else { continue }
                group.addTask {
                    for (index, request) in queue {
                        let started = ContinuousClock.now
                        let decision = try await lock.present(request.credential, requestID: "r-\(index)")
                        let elapsed = ContinuousClock.now - started
                        let milliseconds =
                            Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
                        let reason = decision?["reason"] as? String
                        let commandID = decision?["commandId"] as? String
                        let count = tally.record(
                            index, Outcome(reason: reason, latencyMs: milliseconds, commandID: commandID))
                        if count % 250 == 0 { progress("requests: \(count)/\(total)") }
                        try await Task.sleep(for: interval)
                    }
                }
            }
            try await group.waitForAll()
        }
        progress("requests: \(total)/\(total)")

        // Misbehaviour: forced doors, low battery, tamper-free power cut, a lamp fault, replayed,
        // delayed and forged commands.
        // An attacker with a foothold on the broker captures a fresh unlock and plays it again at
        // once (replayed), tampered with (bad MAC), and later (expired). The capture is a holder's
        // second, legitimate entry with a reusable credential.
        var extraGrant: (lock: String, space: String, commandID: String?)?
        var captured: [UInt8]?
        let capturedLock: String
        if let reuse = plan.requests.first(where: { $0.kind == .onTime && $0.reservation?.singleUse == false }),
            let lock = locks[reuse.lockID]
        {
            capturedLock = reuse.lockID
            let before = lock.receivedCommands.count
            let decision = try await lock.present(reuse.credential, requestID: "capture-1")
            extraGrant = (reuse.lockID, reuse.reservation?.spaceID ?? "", decision?["commandId"] as? String)
            _ = await eventually(timeout: .seconds(5)) { lock.receivedCommands.count > before }
            if lock.receivedCommands.count > before { captured = lock.receivedCommands.last }
            if let captured {
                await lock.execute(captured)  // replayed
                var forged = captured
                if let range = forged.firstRange(of: Array(#""unlockForS":5"#.utf8)) {
                    forged.replaceSubrange(range, with: Array(#""unlockForS":9"#.utf8))
                }
                await lock.execute(forged)  // forged: the MAC no longer verifies
            }
        } else {
            capturedLock = plan.locks[0].id
        }
        let requestsEnded = ContinuousClock.now
        let lockIDs = plan.locks.map(\.id).dropLast()
        let forced = Array(lockIDs.prefix(3))
        try await locks[lockIDs[3]]?.setBattery(12)
        let faultPole = plan.poles[0].id
        try await poles[faultPole]?.report(secondOfDay: 0, lux: 2, status: "defectiveLamp")
        try await poles[faultPole]?.report(secondOfDay: 0, lux: 2, status: "defectiveLamp")
        let offlineLock = lockIDs[4]
        await locks[offlineLock]?.powerCut()
        if let captured, let lock = locks[capturedLock] {
            progress("waiting 6 s to deliver a captured command late")
            try await Task.sleep(for: .seconds(6))
            await lock.execute(captured)  // delayed past notAfter
        }
        // A door opened with no executed unlock in the last unlockForS + 10 s is forced: wait
        // until the last legitimate unlock is that old, then force three doors (twice each: one
        // episode, one alarm).
        let quiet = requestsEnded + .seconds(16)
        if ContinuousClock.now < quiet {
            progress("waiting for the last unlocks to age, then forcing doors")
            try await Task.sleep(until: quiet)
        }
        for id in forced {
            locks[id]?.forceDoorOpen()
            locks[id]?.forceDoorOpen()
        }
        try await Task.sleep(for: .seconds(2))

        // Checks.
        var report = Report()
        let results = tally.outcomes
        var falseGrants = 0
        var falseDenials = 0
        var wrongReasons = 0
        var byOutcome: [String: Int] = [:]
        var byKind: [String: (ok: Int, all: Int)] = [:]
        var grantsPerSpace: [String: Int] = [:]
        var grantedCommands: [(lock: String, command: String)] = []
        if let extraGrant {
            if let command = extraGrant.commandID {
                grantsPerSpace[extraGrant.space, default: 0] += 1
                grantedCommands.append((extraGrant.lock, command))
            } else {
                report.mismatches.append("a holder's second entry at \(extraGrant.lock) was not granted")
            }
        }
        for (index, request) in plan.requests.enumerated() {
            let got = results[index]?.reason ?? "no decision"
            byOutcome[got, default: 0] += 1
            let ok = got == request.expected.rawValue
            byKind[request.kind.rawValue, default: (0, 0)].all += 1
            if ok { byKind[request.kind.rawValue, default: (0, 0)].ok += 1 }
            if got == "granted" {
                grantsPerSpace[plan.locks.first { $0.id == request.lockID }?.space ?? "", default: 0] += 1
                if let command = results[index]?.commandID { grantedCommands.append((request.lockID, command)) }
            }
            if !ok {
                if got == "granted" {
                    falseGrants += 1
                } else if request.expected == .granted {
                    falseDenials += 1
                } else {
                    wrongReasons += 1
                }
                if report.mismatches.count < 20 {
                    report.mismatches.append(
                        "request r-\(index) (\(request.kind.rawValue) at \(request.lockID)): expected \(request.expected.rawValue), got \(got)"
                    )
                }
            }
        }
        if falseGrants + falseDenials + wrongReasons > 20 {
            report.mismatches.append("… \(falseGrants + falseDenials + wrongReasons) mismatched requests in all")
        }

        // Every grant's command reached its lock and was executed there.
        var unexecuted = 0
        for grant in grantedCommands {
            let executed =
                locks[grant.lock]?.commandResults.contains { $0.commandID == grant.command && $0.result == .executed }
                ?? false
            if !executed { unexecuted += 1 }
        }
        if unexecuted > 0 { report.mismatches.append("\(unexecuted) granted commands were not executed by their lock") }
        let attackResults =
            captured == nil ? [] : locks[capturedLock]?.commandResults.map(\.result).filter { $0 != .executed } ?? []
        if captured == nil {
            report.mismatches.append("no command could be captured for the replay attacks")
        } else if attackResults.sorted(by: { $0.rawValue < $1.rawValue }) != [.badMAC, .expired, .replayed] {
            report.mismatches.append(
                "replayed/forged/delayed commands: the lock reported \(attackResults.map(\.rawValue))")
        }

        // Alarms: expected once each, by type and device.
        var expectedAlarms: [String: Int] = [:]
        for id in forced { expectedAlarms["door_forced \(id)", default: 0] += 1 }
        expectedAlarms["low_battery \(lockIDs[3])"] = 1
        expectedAlarms["lock_offline \(offlineLock)"] = 1
        expectedAlarms["pole_fault \(faultPole)"] = 1
        expectedAlarms["brute_force \(plan.guessLock)"] = 1
        // (v1.1) One open `command_failed` episode per lock, whatever the number of failures.
        if captured != nil { expectedAlarms["command_failed \(capturedLock)"] = 1 }
        var raisedAlarms: [String: Int] = [:]
        for message in seen.recorded where message.topic == topics.alarms {
            guard let alarm = (try? JSONSerialization.jsonObject(with: Data(message.payload))) as? [String: Any] else {
                continue
            }
            let device = (alarm["lockId"] as? String) ?? (alarm["poleId"] as? String) ?? "-"
            raisedAlarms["\(alarm["type"] as? String ?? "?") \(device)", default: 0] += 1
        }
        for key in Set(expectedAlarms.keys).union(raisedAlarms.keys).sorted()
        where expectedAlarms[key] != raisedAlarms[key] {
            report.mismatches.append(
                "alarm \(key): expected \(expectedAlarms[key] ?? 0), raised \(raisedAlarms[key] ?? 0)")
        }

        // Welcome lighting: one command per grant per dark pole of the space, each executed.
        var expectedLights: [String: Int] = [:]
        for pole in plan.poles where plan.darkSpaces.contains(pole.space) {
            expectedLights[pole.id] = grantsPerSpace[pole.space] ?? 0
        }
        var lightMismatches = 0
        for pole in plan.poles {
            let executed = poles[pole.id]?.commandResults.filter { $0 == .executed }.count ?? 0
            if executed != (expectedLights[pole.id] ?? 0) { lightMismatches += 1 }
        }
        if lightMismatches > 0 {
            report.mismatches.append(
                "\(lightMismatches) poles were lit a different number of times than grants after dark")
        }

        // The mixed site's doors, each in its dialect.
        let dialectOutcome = try await dialects.play(dialectDevices)
        report.mismatches += dialectOutcome.mismatches
        progress("device profiles played")

        // Episode: the gateway restarts mid-day and misses bookings. It is stopped, holders who were
        // let in are cancelled while it is away (its booking session is not kept: sessionExpiryS 0,
        // so nothing is queued for it), and it starts again: the retained head shows the gap, the
        // replay closes it, and each of those holders must now be refused `cancelled`.
        // Holders at doors still online (the misbehaviour above cut one lock's power).
        let episode = plan.requests.filter {
            $0.kind == .onTime && $0.reservation?.singleUse == false && locks[$0.lockID]?.isOnline == true
        }.prefix(10)
        await gateway.terminated(SIGTERM, grace: .seconds(10))
        // With the gateway away, the Zigbee lock admits the PINs pushed into it, and only those.
        let stoppedOutcome = try await dialects.playWhileStopped(dialectDevices)
        report.mismatches += stoppedOutcome.mismatches
        for request in episode {
            guard let reservation = request.reservation else { continue }
            try await feed.publish(.cancel(reservationID: reservation.id, version: reservation.version + 10))
        }
        let since = seen.recorded.count
        let restartedAt = ContinuousClock.now
        gateway = try ChildProcess(
            executable: options.gatewayExecutable, arguments: ["--config", directory + "/gateway.yaml"],
            outputFile: URL(fileURLWithPath: directory + "/gateway-restarted.log"))
        let backOnline = await seen.first(since: since, timeout: .seconds(30)) {
            $0.topic == topics.gatewayStatus(gatewayID: "gw-sim")
                && $0.payloadString?.contains("\"online\":true") == true
        }
        let probe = GatewayProbe(port: httpPort)
        let caughtUp = await eventually(timeout: .seconds(30), every: .milliseconds(20)) {
            await probe.total("access_booking_feed_applied_seq") ?? 0 >= Double(feed.headSeq)
        }
        let catchUpMs =
            Int((ContinuousClock.now - restartedAt).components.seconds * 1000)
            + Int((ContinuousClock.now - restartedAt).components.attoseconds / 1_000_000_000_000_000)
        var refused = 0
        var otherwise: [String] = []
        for (index, request) in episode.enumerated() {
            guard let lock = locks[request.lockID] else { continue }
            let decision = try await lock.present(request.credential, requestID: "restart-\(index)")
            let reason = decision?["reason"] as? String
            if reason == "cancelled" {
                refused += 1
            } else {
                otherwise.append("\(request.reservation?.id ?? "?") at \(request.lockID): \(reason ?? "no decision")")
            }
            try await Task.sleep(for: interval)
        }
        if backOnline == nil || !caughtUp || refused != episode.count {
            report.mismatches.append(
                "restart episode: \(refused)/\(episode.count) holders cancelled while the gateway was down were refused"
                    + (caughtUp ? "" : "; the gateway did not catch up with the feed")
                    + (otherwise.isEmpty ? "" : " (" + otherwise.joined(separator: ", ") + ")"))
        }

        // Summary.
        let latencies = results.values.map(\.latencyMs).sorted()
        func percentile(_ p: Double) -> String {
            guard !latencies.isEmpty else { return "-" }
            return String(format: "%.2f", latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))])
        }
        report.lines.append(
            "site: \(plan.spaces.count) spaces, \(plan.locks.count) locks, \(plan.poles.count) poles, \(plan.bookingLines.count) booking messages, seed \(options.seed)"
        )
        report.lines.append("requests by outcome:")
        for (outcome, count) in byOutcome.sorted(by: { $0.key < $1.key }) {
            report.lines.append("  \(outcome.padding(toLength: 22, withPad: " ", startingAt: 0)) \(count)")
        }
        report.lines.append("requests by kind (as expected / all):")
        for (kind, counts) in byKind.sorted(by: { $0.key < $1.key }) {
            report.lines.append(
                "  \(kind.padding(toLength: 22, withPad: " ", startingAt: 0)) \(counts.ok)/\(counts.all)")
        }
        report.lines.append(
            "false grants \(falseGrants), false denials \(falseDenials), other wrong reasons \(wrongReasons)")
        report.lines.append(
            "commands: \(grantedCommands.count) granted, \(grantedCommands.count - unexecuted) executed; attacks refused: \(attackResults.map(\.rawValue).joined(separator: ", "))"
        )
        report.lines.append(
            "alarms expected \(expectedAlarms.values.reduce(0, +)), raised \(raisedAlarms.values.reduce(0, +))")
        report.lines.append(
            "welcome lighting: \(expectedLights.values.reduce(0, +)) expected, \(poles.values.map { $0.commandResults.filter { $0 == .executed }.count }.reduce(0, +)) executed"
        )
        report.lines.append(
            "restart episode: \(episode.count) cancels published while the gateway was down, caught up "
                + "\(catchUpMs) ms after its restart (replay), \(refused)/\(episode.count) holders refused `cancelled`")
        report.lines.append("device profiles (one lock each, in spaces of their own):")
        report.lines += dialectOutcome.lines + stoppedOutcome.lines
        report.lines.append(
            "decision latency (ms, lock publish -> decision): p50 \(percentile(0.5)) p90 \(percentile(0.9)) p99 \(percentile(0.99)) max \(percentile(1.0))"
        )

        for lock in locks.values { await lock.stop() }
        for pole in poles.values { await pole.stop() }
        await ProfileEpisode.stop(dialectDevices)
        await feed.stop()
        await observer.shutdown()
        return report
    }

    func writeSecret(_ key: SymmetricKey, to path: String) throws {
        let hex = key.withUnsafeBytes { $0.map { String(format: "%02x", $0) }.joined() }
        try (hex + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o600)
    }
}

struct Outcome: Sendable {
    var reason: String?
    var latencyMs: Double
    var commandID: String?
}

/// The outcomes of the requests, filled concurrently by the locks.
final class Tally: Sendable {
    private let state = Mutex<[Int: Outcome]>([:])

    /// Records an outcome and returns how many there are now.
    func record(_ index: Int, _ outcome: Outcome) -> Int {
        state.withLock {
            $0[index] = outcome
            return $0.count
        }
    }

    var outcomes: [Int: Outcome] { state.withLock { $0 } }
}

public struct ScenarioError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension ScenarioRunner {
    /// Publishes an empty retained message on every topic under `filter` that holds one.
    public static func clearRetained(under filter: String, broker: (host: String, port: Int), clientID: String)
        async throws
    {
        let cleaner = try MQTTClient(configuration: .init(host: broker.host, port: broker.port, clientID: clientID))
        try await cleaner.connect()
        let retained = StreamRecorder(cleaner.messages)
        try await cleaner.subscribe(filter)
        // Retained messages arrive right after the SUBACK; a quiet half second means all came.
        var count = -1
        while count != retained.recorded.count {
            count = retained.recorded.count
            try await Task.sleep(for: .milliseconds(500))
        }
        try await cleaner.unsubscribe(filter)
        for topic in Set(retained.recorded.filter { $0.retain && !$0.payload.isEmpty }.map(\.topic)).sorted() {
            try await cleaner.publishAcknowledged(MQTTMessage(topic: topic, payload: "", retain: true))
        }
        await cleaner.shutdown()
    }
}
