import AccessCore
import AccessGateway
import AccessGatewayTesting
import AccessProtocol
import AccessTesting
import Foundation
import MQTT
import MQTTTesting
import Simulation
import Testing

/// Three real gateway processes in one shared-subscription group on one PostgreSQL (started by
/// the test: initdb, a loopback port, stopped by pid) and one mosquitto: what two gateways with a
/// store each once got wrong (issue 19).
@Suite(.serialized) struct SharedDatabaseTests {
    final class Site: @unchecked Sendable {
        let postgres: PostgresServer
        let broker: MosquittoBroker
        let directory: String
        let site = TestSite(spaces: 1)
        var gateways: [String: ChildProcess] = [:]
        let device: MQTTClient
        let inbox: MessageCollector
        let topics = SiteTopics(prefix: "access", siteID: "site-1")

        init() async throws {
            postgres = try await PostgresServer.launch()
            broker = try MosquittoBroker.start()
            directory =
                FileManager.default.temporaryDirectory.appendingPathComponent("shared-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try TestGateway.writeSecret(TestSite.siteKeyBytes, to: directory + "/site.key")
            try TestGateway.writeSecret(TestSite.pinKeyBytes, to: directory + "/pin.key")
            device = try await broker.connectedClient("observer")
            inbox = MessageCollector(device)
            try await device.subscribe(topics.everything, qos: .atLeastOnce)
        }

        func configuration(_ gateway: String) -> String {
            let publicKey = Base64URL.encode(Array(site.minter.privateKey.publicKey.rawRepresentation))
            return """
                gateway: {id: \(gateway)}
                site:
                  id: site-1
                  spaces: [room-1]
                  locks: [door-a@room-1, door-b@room-1, door-c@room-1]
                  poles: []
                issuers: ["kid-1 https://booking.example \(publicKey)"]
                keys: {siteKeyFile: \(directory)/site.key, pinKeyFile: \(directory)/pin.key}
                broker: {port: \(broker.port), sharedGroup: gws}
                database:
                  path: \(directory)/\(gateway).sqlite
                  kind: postgres
                  url: postgres://\(PostgresServer.user)@127.0.0.1:\(postgres.port)/\(PostgresServer.database)
                policy: {maxRequestsPerS: 1000, maxQueueMs: 60000}
                http: {listen: "127.0.0.1:0"}
                log: {level: info}
                """
        }

        func start(_ gateway: String) async throws {
            try configuration(gateway).write(toFile: "\(directory)/\(gateway).yaml", atomically: true, encoding: .utf8)
            let since = inbox.recorded.count
            gateways[gateway] = try ChildProcess(
                executable: try GatewayHarness.executable, arguments: ["--config", "\(directory)/\(gateway).yaml"],
                outputFile: URL(fileURLWithPath: "\(directory)/\(gateway).log"))
            let online = await inbox.first(since: since, timeout: .seconds(30)) {
                $0.topic == self.topics.gatewayStatus(gatewayID: gateway)
                    && $0.payloadString?.contains("\"online\":true") == true
            }
            if online == nil { throw ScenarioError("\(gateway) did not come online:\n\(log(gateway).suffix(2000))") }
        }

        func log(_ gateway: String) -> String {
            (try? String(contentsOfFile: "\(directory)/\(gateway).log", encoding: .utf8)) ?? ""
        }

        /// Publishes a request and returns its decision.
        func request(_ lock: String, _ requestID: String, _ credential: Credential) async throws -> [String: Any]? {
            let payload = AccessRequest(requestID: requestID, credential: credential, timestampMs: nil).payload
            try await device.publishAcknowledged(MQTTMessage(topic: topics.request(lockID: lock), payload: payload))
            return await inbox.first(timeout: .seconds(30)) {
                $0.topic == self.topics.decision(lockID: lock) && $0.payloadString?.contains("\"\(requestID)\"") == true
            }.flatMap { GatewayHarness.json($0.payload) }
        }

        func tearDown() async {
            for gateway in gateways.values { await gateway.terminated(SIGTERM, grace: .seconds(10)) }
            await device.shutdown()
            broker.tearDown()
            await postgres.tornDown()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    static func booking(_ id: String, singleUse: Bool = false) -> Reservation {
        let now = Int64(Date().timeIntervalSince1970) * 1000
        return Reservation(
            id: id, spaceID: "room-1", holder: "u-1", startMs: now - 60_000, endMs: now + 3_600_000, version: 1,
            singleUse: singleUse)
    }

    @Test func threeGatewaysOnOneDatabaseGrantASingleUseOnceAndLockOutTogether() async throws {
        let site = try await Site()
        do {
            for gateway in ["gw-1", "gw-2", "gw-3"] { try await site.start(gateway) }
            let once = Self.booking("b-once", singleUse: true)
            let booking = Self.booking("b-1")
            for (seq, message) in [BookingMessage.upsert(once), .upsert(booking)].enumerated() {
                try await site.device.publishAcknowledged(
                    MQTTMessage(topic: site.topics.bookings, payload: message.payload(seq: Int64(seq + 1))))
            }
            // Every gateway applies both to its own store and mirrors them; the database once.
            let token = site.site.token(for: once, jti: "t-once")
            let pin = site.site.pin(of: booking)
            let ready = await eventually(timeout: .seconds(30), every: .milliseconds(500)) {
                (try? await site.request("door-c", "probe-\(UUID().uuidString.prefix(6))", .pin(pin)))?["granted"]
                    as? Bool
                    == true
            }
            #expect(ready, "\(site.log("gw-1").suffix(1500))")

            // One single-use token at three doors at once: exactly one grant.
            let reasons = try await withThrowingTaskGroup(of: String.self) { group in
                for (index, door) in ["door-a", "door-b", "door-c"].enumerated() {
                    group.addTask {
                        try await site.request(door, "once-\(index)", .token(token))?["reason"] as? String ?? "none"
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(reasons.filter { $0 == "granted" }.count == 1, "\(reasons)")
            #expect(reasons.filter { $0 == "already_used" }.count == 2, "\(reasons)")

            // Five wrong PINs at one door, shared out among the gateways: the lockout is one.
            var answered: [String] = []
            for attempt in 0..<5 {
                let decision = try await site.request(
                    "door-b", "wrong-\(attempt)", .pin(String(format: "%08d", 22_222_222 + attempt)))
                answered.append(decision?["reason"] as? String ?? "none")
            }
            #expect(answered == Array(repeating: "invalid_credential", count: 5))
            for attempt in 0..<3 {
                let decision = try await site.request("door-b", "right-\(attempt)", .pin(pin))
                #expect(decision?["reason"] as? String == "locked_out", "at whichever gateway takes it")
            }

            // The database stops: every request is denied, never guessed; it comes back: decisions resume.
            await site.postgres.stopped()
            let down = try await site.request("door-a", "down-1", .pin(pin))
            #expect(down?["reason"] as? String == "internal_error")
            try await site.postgres.restarted()
            let resumed = await eventually(timeout: .seconds(60), every: .milliseconds(500)) {
                (try? await site.request("door-a", "up-\(UUID().uuidString.prefix(6))", .pin(pin)))?["reason"]
                    as? String
                    == "granted"
            }
            #expect(resumed, "\(site.log("gw-2").suffix(1500))")
            // No command without a grant anywhere.
            let grants = site.inbox.messages.filter { $0.topic.hasSuffix("/decision") }.compactMap {
                GatewayHarness.json($0.payload)
            }.filter { $0["granted"] as? Bool == true }.count
            let commands = site.inbox.messages.filter { $0.topic.hasSuffix("/command") }.count
            #expect(commands == grants)
        } catch {
            Issue.record("\(error)")
        }
        await site.tearDown()
    }

    /// One gateway killed (SIGKILL) under load: the others go on deciding, no cancelled booking is
    /// granted, and every grant that was published is in the shared audit log.
    @Test func aGatewayKilledUnderLoadLeavesNoFalseGrantAndNoGrantUnaudited() async throws {
        let site = try await Site()
        do {
            for gateway in ["gw-1", "gw-2", "gw-3"] { try await site.start(gateway) }
            let booking = Self.booking("b-1")
            var gone = Self.booking("b-gone")
            gone.holder = "u-2"
            let messages: [BookingMessage] = [
                .upsert(booking), .upsert(gone), .cancel(reservationID: "b-gone", version: 2),
            ]
            for (seq, message) in messages.enumerated() {
                try await site.device.publishAcknowledged(
                    MQTTMessage(topic: site.topics.bookings, payload: message.payload(seq: Int64(seq + 1))))
            }
            let pin = site.site.pin(of: booking)
            let cancelledPIN = site.site.pin(of: gone)
            let ready = await eventually(timeout: .seconds(30), every: .milliseconds(500)) {
                (try? await site.request("door-a", "probe-\(UUID().uuidString.prefix(6))", .pin(pin)))?["granted"]
                    as? Bool
                    == true
            }
            #expect(ready)
            // Load: the right PIN and a cancelled booking's PIN, alternately, at two doors.
            let load = Task {
                for index in 0..<300 {
                    let credential: Credential = .pin(index % 2 == 0 ? pin : cancelledPIN)
                    let payload = AccessRequest(requestID: "L-\(index)", credential: credential, timestampMs: nil)
                        .payload
                    try? site.device.publish(
                        MQTTMessage(
                            topic: site.topics.request(lockID: index % 4 < 2 ? "door-a" : "door-c"), payload: payload))
                    try? await Task.sleep(for: .milliseconds(10))
                }
            }
            try await Task.sleep(for: .seconds(1))
            site.gateways["gw-2"]?.terminate(SIGKILL, grace: .seconds(1))
            site.gateways["gw-2"] = nil
            _ = await load.value
            // The survivors still decide (the group's requests now go to them).
            let after = try await site.request("door-c", "after-kill", .pin(pin))
            #expect(after?["granted"] as? Bool == true, "\(site.log("gw-1").suffix(1500))")
            try await Task.sleep(for: .seconds(2))

            let decisions = site.inbox.messages.filter { $0.topic.hasSuffix("/decision") }.compactMap {
                GatewayHarness.json($0.payload)
            }
            let granted = Set(
                decisions.filter { $0["granted"] as? Bool == true }.compactMap { $0["requestId"] as? String })
            let falseGrants = decisions.filter {
                $0["granted"] as? Bool == true
                    && ($0["requestId"] as? String).flatMap { Int($0.dropFirst(2)) }.map { $0 % 2 == 1 } == true
                    && ($0["requestId"] as? String)?.hasPrefix("L-") == true
            }
            #expect(falseGrants.isEmpty, "a cancelled booking was granted: \(falseGrants)")
            #expect(granted.count > 50, "\(granted.count) grants under load")
            let psql = try await site.postgres.sql("SELECT request_id FROM audit_log WHERE granted")
            let audited = Set(psql.split(separator: "\n").map(String.init))
            #expect(
                granted.subtracting(audited).isEmpty,
                "published grants missing from the audit: \(granted.subtracting(audited).sorted().prefix(5))")
        } catch {
            Issue.record("\(error)")
        }
        await site.tearDown()
    }

    /// `accessctl` on a shared gateway's configuration reads and changes the shared database, where
    /// the gateways' audit chains and cards are, not the local store.
    @Test func accessctlOnASharedGatewayVerifiesChainsAndChangesBookingsAndCardsInTheDatabase() async throws {
        let site = try await Site()
        do {
            for gateway in ["gw-1", "gw-2"] { try await site.start(gateway) }
            let booking = Self.booking("b-1")
            try await site.device.publishAcknowledged(
                MQTTMessage(topic: site.topics.bookings, payload: BookingMessage.upsert(booking).payload(seq: 1)))
            let pin = site.site.pin(of: booking)
            let ready = await eventually(timeout: .seconds(30), every: .milliseconds(500)) {
                (try? await site.request("door-a", "probe-\(UUID().uuidString.prefix(6))", .pin(pin)))?["granted"]
                    as? Bool == true
            }
            try #require(ready, "the booking never reached the shared database")
            for n in 0..<10 { _ = try await site.request("door-b", "r-\(n)", .pin(n % 2 == 0 ? pin : "00000000")) }

            let tool = try #require(PackagePaths.executable("accessctl"), "build the package first")
            let config = "\(site.directory)/gw-1.yaml"
            func accessctl(_ arguments: [String]) async throws -> ExternalTool.Captured {
                try await ExternalTool.captureDetached(tool, arguments + ["--config", config])
            }
            let chains = try await site.postgres.sql("SELECT gateway_id, seq FROM audit_heads ORDER BY gateway_id")
                .split(separator: "\n").map { $0.split(separator: "|").map(String.init) }
            try #require(!chains.isEmpty)

            let verified = try await accessctl(["audit", "verify"])
            #expect(verified.status == 0, "\(verified.standardError)")
            for chain in chains {
                #expect(verified.standardOutput.contains("\(chain[0]): audit chain intact: \(chain[1]) records"))
            }
            // Queries read the named gateway's chain in the database.
            let other = chains[chains.count - 1][0]
            let query = try await accessctl(["audit", "query", "--gateway", other, "--json"])
            let lines = query.standardOutput.split(separator: "\n")
            #expect(query.status == 0 && lines.count == Int(chains[chains.count - 1][1]), "\(query.standardError)")
            #expect(lines.allSatisfy { $0.contains("\"gatewayId\":\"\(other)\"") })
            let status = try await accessctl(["bookings", "status", "--head-timeout", "0", "--json"])
            #expect(status.standardOutput.contains("\"sharedAppliedSeq\":1"), "\(status.standardOutput)")

            // Cards go to the shared database, which every gateway decides with.
            let added = try await accessctl(["holders", "card", "add", "u-1", "4711", "--label", "blue"])
            #expect(added.status == 0 && added.standardOutput.contains("in the shared database"))
            #expect(try await site.postgres.sql("SELECT holder, label FROM holder_cards") == "u-1|blue\n")
            let listed = try await accessctl(["holders", "card", "list", "--json"])
            #expect(listed.standardOutput.contains("\"holder\":\"u-1\""))
            #expect(try await accessctl(["holders", "card", "remove", "4711"]).status == 0)
            #expect(try await site.postgres.sql("SELECT count(*) FROM holder_cards") == "0\n")
            #expect(try await accessctl(["holders", "card", "remove", "4711"]).status != 0)

            // Bookings changed with accessctl reach the database every gateway decides with.
            let second = Self.booking("b-2")
            let file = "\(site.directory)/import.ndjson"
            try (BookingMessage.upsert(second).payload(seq: nil) + "\n").write(
                toFile: file, atomically: true, encoding: .utf8)
            let imported = try await accessctl(["reservations", "import", file])
            #expect(imported.status == 0 && imported.standardOutput.contains("applied 1"), "\(imported.standardError)")
            #expect(
                try await site.request("door-c", "after-import", .pin(site.site.pin(of: second)))?["granted"] as? Bool
                    == true)
            let cancelled = try await accessctl(["reservations", "cancel", "b-1"])
            #expect(cancelled.status == 0 && cancelled.standardOutput.contains("in the shared database"))
            #expect(try await site.postgres.sql("SELECT status FROM reservations WHERE id = 'b-1'") == "cancelled\n")
            let shown = try await accessctl(["reservations", "show", "b-1"])
            #expect(shown.standardOutput.contains("\"status\":\"cancelled\""), "\(shown.standardOutput)")
            for n in 0..<4 {
                #expect(try await site.request("door-c", "after-cancel-\(n)", .pin(pin))?["granted"] as? Bool == false)
            }
            #expect(try await accessctl(["reservations", "revoke", "t-9"]).status == 0)
            #expect(try await site.postgres.sql("SELECT jti FROM revoked_tokens") == "t-9\n")

            // A record changed, then one cut from the end: each is named.
            let gateway = chains[0][0]
            _ = try await site.postgres.sql(
                "UPDATE audit_log SET granted = NOT granted WHERE gateway_id = '\(gateway)' AND seq = 1")
            let changed = try await accessctl(["audit", "verify", "--gateway", gateway])
            #expect(changed.status == 1)
            #expect(changed.standardError.contains("\(gateway): audit chain broken at 1"), "\(changed.standardError)")
            _ = try await site.postgres.sql(
                "UPDATE audit_log SET granted = NOT granted WHERE gateway_id = '\(gateway)' AND seq = 1")
            // Stop the gateways so the head row stays where the cut leaves it.
            for process in site.gateways.values { await process.terminated(SIGTERM, grace: .seconds(10)) }
            site.gateways = [:]
            let head = try await site.postgres.sql("SELECT seq FROM audit_heads WHERE gateway_id = '\(gateway)'")
            _ = try await site.postgres.sql(
                "DELETE FROM audit_log WHERE gateway_id = '\(gateway)' AND seq = \(head.trimmingCharacters(in: .newlines))"
            )
            let cut = try await accessctl(["audit", "verify"])
            #expect(cut.status == 1)
            #expect(
                cut.standardError.contains(
                    "\(gateway): audit chain broken at \(head.trimmingCharacters(in: .newlines))"))
        } catch {
            Issue.record("\(error)")
        }
        await site.tearDown()
    }
}
