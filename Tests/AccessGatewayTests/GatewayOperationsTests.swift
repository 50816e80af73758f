import AccessCore
import AccessGateway
import AccessGatewayTesting
import AccessProtocol
import AccessStore
import AccessTesting
import Foundation
import GRDB
import MQTT
import MQTTTesting
import Testing

/// Operating the daemon: health and metrics, bad input, bad configuration, and SIGTERM under load.
@Suite(.serialized) struct GatewayOperationsTests {
    @Test func healthAndMetricsAnswerAndMalformedInputIsCountedNotFatal() async throws {
        let harness = try await GatewayHarness()
        try await harness.startGateway()
        let health = try await harness.http("/healthz")
        #expect(health.status == 200 && health.body.trimmingCharacters(in: .whitespacesAndNewlines) == "ok")
        #expect(try await harness.http("/nope").status == 404)

        let root = "access/site-1"
        var invalidUTF8 = Array(#"{"requestId":"x-1","credential":{"type":"pin","value":"1234"}}"#.utf8)
        invalidUTF8[3] = 0xFF
        let bad: [(String, [UInt8])] = [
            ("\(root)/locks/lock-1/request", Array("not json".utf8)),
            (
                "\(root)/locks/lock-1/request",
                Array(("{\"requestId\":\"h-1\",\"pad\":\"" + String(repeating: "x", count: 20_000) + "\"}").utf8)
            ),
            ("\(root)/locks/lock-1/request", invalidUTF8),
            ("\(root)/locks/lock-1/request", Array("[1,2,3]".utf8)),
            ("\(root)/locks/..%/request", Array("{}".utf8)),
            ("\(root)/locks/lock-1/event", Array(#"{"type":"door","state":"ajar"}"#.utf8)),
            ("\(root)/locks/lock-1/status", Array("{".utf8)),
            ("\(root)/poles/pole-1/telemetry", Array(#"{"illuminance":"dark"}"#.utf8)),
            ("\(root)/bookings", Array(#"{"op":"upsert","reservation":{"id":"b/1"}}"#.utf8)),
        ]
        for (topic, payload) in bad {
            try await harness.device.publishAcknowledged(MQTTMessage(topic: topic, payload: payload))
        }
        // Still serving: a valid request after the garbage is decided.
        let after = try await harness.request(requestID: "after-1", credential: .pin("12345678"))
        #expect(after?["reason"] as? String == "invalid_credential")
        #expect(harness.gateway?.isRunning == true)
        let decisions = harness.messages(on: harness.topics.decision(lockID: "lock-1")).compactMap {
            GatewayHarness.json($0.payload)?["reason"] as? String
        }
        #expect(decisions.filter { $0 == "malformed" }.count == 4)

        let metrics = try await harness.http("/metrics")
        #expect(metrics.status == 200)
        let text = metrics.body
        #expect(text.contains(#"access_requests_total{reason="malformed"} 4"#))
        #expect(text.contains(#"access_messages_dropped_total{kind="invalid_lock_id"} 1"#))
        #expect(text.contains(#"access_messages_dropped_total{kind="malformed_event"} 1"#))
        #expect(text.contains(#"access_messages_dropped_total{kind="malformed_status"} 1"#))
        #expect(text.contains(#"access_messages_dropped_total{kind="malformed_telemetry"} 1"#))
        #expect(text.contains(#"access_booking_messages_total{outcome="rejected"} 1"#))
        #expect(text.contains("access_decision_seconds_bucket"))
        // Every decision above was committed: the commit latency saw them (it once never did).
        #expect(
            text.contains("access_audit_commit_seconds_count") && !text.contains("access_audit_commit_seconds_count 0"))
        #expect(text.contains("access_broker_connected 1"))

        // Without the broker the gateway is not healthy (and tells why).
        harness.broker.kill()
        #expect(await eventually(timeout: .seconds(10)) { (try? await harness.http("/healthz").status) == 503 })
        #expect(try await harness.http("/healthz").body.contains("broker: not connected"))
    }

    @Test func sigtermWithTheBrokerGoneStillExitsPromptly() async throws {
        let harness = try await GatewayHarness()
        try await harness.startGateway()
        harness.broker.kill()
        try await Task.sleep(for: .milliseconds(300))
        let gateway = try #require(harness.gateway)
        let sent = ContinuousClock.now
        gateway.send(SIGTERM)
        #expect(await gateway.exited(within: .seconds(15)), "still running: \(harness.log().suffix(1500))")
        #expect(gateway.exitCode == 0)
        #expect(ContinuousClock.now - sent < .seconds(10))
    }

    /// Started as systemd/access-gateway.service starts it: key files as credentials (relative
    /// names in $CREDENTIALS_DIRECTORY, mode 0400), the database in the state directory through
    /// the environment, a notify socket and a watchdog. WATCHDOG=1 stops once the broker is gone.
    @Test func startedAsTheUnitStartsItItNotifiesAndStopsPettingTheWatchdogWhenUnhealthy() async throws {
        let harness = try await GatewayHarness()
        let credentials = harness.directory + "/credentials"
        let state = harness.directory + "/state"
        try FileManager.default.createDirectory(atPath: credentials, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        for name in ["site.key", "pin.key"] {
            try FileManager.default.copyItem(atPath: harness.directory + "/" + name, toPath: credentials + "/" + name)
            chmod(credentials + "/" + name, 0o400)
            try FileManager.default.removeItem(atPath: harness.directory + "/" + name)
        }
        let listener = try await NotifyListener(directory: harness.directory, timestamps: true)
        defer { listener.stop() }
        try await harness.startGateway(environment: [
            "NOTIFY_SOCKET": listener.socketPath, "WATCHDOG_USEC": "400000", "CREDENTIALS_DIRECTORY": credentials,
            "ACCESS_GATEWAY_KEYS_SITE_KEY_FILE": "site.key", "ACCESS_GATEWAY_KEYS_PIN_KEY_FILE": "pin.key",
            "ACCESS_GATEWAY_DATABASE_PATH": state + "/access.sqlite",
        ])
        #expect(await eventually { listener.notes.contains("READY=1") })
        #expect(FileManager.default.fileExists(atPath: state + "/access.sqlite"))
        #expect(await eventually { listener.watchdogs > 2 })
        harness.broker.kill()
        // Within one watchdog interval of noticing, the pings stop.
        try await Task.sleep(for: .seconds(1.5))
        let before = listener.watchdogs
        try await Task.sleep(for: .seconds(1.5))
        #expect(listener.watchdogs == before, "\(listener.notes)")
    }

    @Test func sighupReloadsTheInventoryWithoutDroppingTheConnection() async throws {
        let harness = try await GatewayHarness()
        try await harness.startGateway()
        // unknown_lock carries no requestId: take the first decision on the lock's topic.
        _ = try await harness.request(
            lockID: "lock-4", requestID: "h-1", credential: .pin("1234"), timeout: .seconds(5))
        let unknown = harness.messages(on: harness.topics.decision(lockID: "lock-4")).first
        #expect(unknown.flatMap { GatewayHarness.json($0.payload)?["reason"] as? String } == "unknown_lock")
        let before = try String(contentsOfFile: harness.configPath, encoding: .utf8)
        try before.replacingOccurrences(of: "lock-3@room-3]", with: "lock-3@room-3, lock-4@room-3]")
            .write(toFile: harness.configPath, atomically: true, encoding: .utf8)
        harness.gateway?.send(SIGHUP)
        #expect(await eventually(timeout: .seconds(10)) { harness.log().contains("configuration reloaded") })
        let decision = try await harness.request(lockID: "lock-4", requestID: "h-2", credential: .pin("12345678"))
        #expect(decision?["reason"] as? String == "invalid_credential")
        #expect(harness.gateway?.isRunning == true)
        // A broken file is refused and the running configuration stays.
        try "gateway: [".write(toFile: harness.configPath, atomically: true, encoding: .utf8)
        harness.gateway?.send(SIGHUP)
        #expect(await eventually(timeout: .seconds(10)) { harness.log().contains("reload refused") })
        let still = try await harness.request(lockID: "lock-4", requestID: "h-3", credential: .pin("12345678"))
        #expect(still?["reason"] as? String == "invalid_credential")
    }

    /// A reload publishes every device's live state again, and clears what a removed lock left
    /// retained, so that no dashboard keeps a ghost.
    @Test func aReloadClearsTheRetainedStateOfARemovedLock() async throws {
        let harness = try await GatewayHarness()
        try await harness.startGateway()
        let removed = harness.topics.lockState(gatewayID: "gw-1", lockID: "lock-3")
        #expect(await harness.inbox.first(timeout: .seconds(10)) { $0.topic == removed && !$0.payload.isEmpty } != nil)
        let before = try String(contentsOfFile: harness.configPath, encoding: .utf8)
        try before.replacingOccurrences(of: ", lock-3@room-3]", with: "]")
            .write(toFile: harness.configPath, atomically: true, encoding: .utf8)
        harness.gateway?.send(SIGHUP)
        #expect(await eventually(timeout: .seconds(10)) { harness.log().contains("configuration reloaded") })
        let cleared = await harness.inbox.first(timeout: .seconds(10)) { $0.topic == removed && $0.payload.isEmpty }
        #expect(cleared != nil, "\(harness.messages(on: removed).map(\.payloadString))")
        await harness.stop()
    }

    @Test func systemdHearsReadyWatchdogAndStopping() async throws {
        let harness = try await GatewayHarness()
        let listener = try await NotifyListener(directory: harness.directory)
        defer { listener.stop() }
        try await harness.startGateway(environment: ["NOTIFY_SOCKET": listener.socketPath, "WATCHDOG_USEC": "400000"])
        #expect(await eventually { listener.notes.contains("READY=1") })
        #expect(await eventually { listener.watchdogs > 1 })
        await harness.stop()
        #expect(await eventually { listener.notes.contains("STOPPING=1") })
        #expect(harness.gateway?.exitCode == 0)
    }

    /// (section, key, value) written over a valid configuration; nil value removes the key.
    @Test(
        arguments: [
            ("site", "id", nil, "site.id"),
            ("gateway", "id", "../gw", "gateway.id"),
            ("broker", "port", "seventy", "broker.port"),
            ("policy", "pinDigits", "3", "policy.pinDigits"),
            ("site", "locks", "[lock-1]", "site.locks"),
            ("site", "locks", "[lock-1@room-9]", "site"),
            ("database", "synchronous", "sometimes", "database.synchronous"),
            ("keys", "siteKeyFile", "/nonexistent/site.key", "keys.siteKeyFile"),
            ("issuers", "", "[\"kid-1 iss notakey\"]", "issuers"),
            // Nothing is trusted that the operator did not configure.
            ("issuers", "", "[]", "issuers"),
            // Misspelt keys would silently fall back to defaults.
            ("broker", "prot", "1883", "broker.prot"),
            ("policy", "pinDigit", "6", "policy.pinDigit"),
            ("databse", "", "{synchronous: normal}", "databse"),
        ] as [(String, String, String?, String)])
    func aBadConfigurationRefusesToStartNamingTheKey(section: String, key: String, value: String?, named: String)
        async throws
    {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("badconfig-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try TestGateway.writeSecret(TestSite.siteKeyBytes, to: directory + "/site.key")
        try TestGateway.writeSecret(TestSite.pinKeyBytes, to: directory + "/pin.key")
        var sections: [(String, [(String, String)])] = [
            ("gateway", [("id", "gw-1")]),
            ("site", [("id", "site-1"), ("spaces", "[room-1]"), ("locks", "[lock-1@room-1]")]),
            ("keys", [("siteKeyFile", directory + "/site.key"), ("pinKeyFile", directory + "/pin.key")]),
            ("database", [("path", directory + "/db.sqlite")]),
            ("broker", [("port", "1883")]),
            ("policy", [("pinDigits", "8")]),
        ]
        var yaml = ""
        if section != "issuers" {
            let issuerKey = Base64URL.encode(Array(TestSite().minter.privateKey.publicKey.rawRepresentation))
            yaml += "issuers: [\"kid-1 https://booking.example \(issuerKey)\"]\n"
        }
        if key.isEmpty, let value {
            yaml += "\(section): \(value)\n"
        } else if let index = sections.firstIndex(where: { $0.0 == section }) {
            sections[index].1.removeAll { $0.0 == key }
            if let value { sections[index].1.append((key, value)) }
        }
        for (name, pairs) in sections {
            yaml += "\(name):\n" + pairs.map { "  \($0.0): \($0.1)\n" }.joined()
        }
        try yaml.write(toFile: directory + "/gateway.yaml", atomically: true, encoding: .utf8)
        let result = try await ExternalTool.captureDetached(
            try GatewayHarness.executable, ["--config", directory + "/gateway.yaml"])
        #expect(result.status == 78, "\(result.standardError)")
        #expect(result.standardError.contains("configuration refused: \(named)"), "\(result.standardError)")
        #expect(!FileManager.default.fileExists(atPath: directory + "/db.sqlite"), "nothing was created")
    }

    /// `config/gateway.example.yaml`, as installed, with the unit's environment: key names in
    /// $CREDENTIALS_DIRECTORY and the database in the state directory. It trusts no issuer, so it
    /// is refused naming `issuers` until the operator adds one; with one it passes; with a key
    /// whose private half an RFC prints (the one the example used to ship) it is refused again.
    @Test func theShippedExampleTrustsNoIssuerUntilOneIsAdded() async throws {
        let credentials = FileManager.default.temporaryDirectory.appendingPathComponent("creds-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: credentials, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: credentials) }
        try TestGateway.writeSecret(TestSite.siteKeyBytes, to: credentials + "/site.key")
        try TestGateway.writeSecret(TestSite.pinKeyBytes, to: credentials + "/pin.key")
        let shipped = try String(contentsOfFile: PackagePaths.root + "/config/gateway.example.yaml", encoding: .utf8)
        func check(_ yaml: String) async throws -> (status: Int32, standardError: String) {
            let path = credentials + "/gateway-\(UUID().uuidString).yaml"
            try yaml.write(toFile: path, atomically: true, encoding: .utf8)
            let result = try await ExternalTool.captureDetached(
                "/usr/bin/env",
                [
                    "CREDENTIALS_DIRECTORY=\(credentials)", "ACCESS_GATEWAY_KEYS_SITE_KEY_FILE=site.key",
                    "ACCESS_GATEWAY_KEYS_PIN_KEY_FILE=pin.key",
                    "ACCESS_GATEWAY_DATABASE_PATH=\(credentials)/access.sqlite",
                    try GatewayHarness.executable, "--config", path, "--check-config",
                ])
            return (result.status, result.standardError)
        }
        let asShipped = try await check(shipped)
        #expect(asShipped.status == 78 && asShipped.standardError.contains("issuers"), "\(asShipped.standardError)")

        let ours = Base64URL.encode(Array(TestSite().minter.privateKey.publicKey.rawRepresentation))
        func withIssuer(_ key: String) -> String {
            shipped.replacingOccurrences(
                of: "\nissuers: []", with: "\nissuers: [\"kid-1 https://booking.example \(key)\"]")
        }
        let configured = try await check(withIssuer(ours))
        #expect(configured.status == 0, "\(configured.standardError)")

        let rfcExample = try await check(withIssuer("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"))
        #expect(rfcExample.status == 78 && rfcExample.standardError.contains("published example key"))
        #expect(rfcExample.standardError.contains("RFC 8037"))

        // Without the credentials the same file is refused, naming the key.
        let bare = try await ExternalTool.captureDetached(
            try GatewayHarness.executable,
            ["--config", PackagePaths.root + "/config/gateway.example.yaml", "--check-config"])
        #expect(bare.status == 78, "\(bare.standardError)")
    }

    /// Allowed, but said: plain MQTT to another host, HTTP open to the network.
    @Test func checkConfigWarnsAboutPlainMQTTAndAnOpenHTTPEndpoint() async throws {
        let harness = try await GatewayHarness(
            brokerYAML: "broker:\n  host: broker.example\n  port: 1883", httpListen: "0.0.0.0:9464")
        let result = try await ExternalTool.captureDetached(
            try GatewayHarness.executable, ["--config", harness.configPath, "--check-config"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError.contains("warning: broker.host broker.example is not loopback"))
        #expect(result.standardError.contains("warning: http.listen 0.0.0.0:9464 is not loopback"))
        let quiet = try await GatewayHarness()
        let clean = try await ExternalTool.captureDetached(
            try GatewayHarness.executable, ["--config", quiet.configPath, "--check-config"])
        #expect(clean.status == 0 && !clean.standardError.contains("warning"), "\(clean.standardError)")
    }

    @Test func aGroupOrWorldReadableKeyFileIsRefused() async throws {
        let harness = try await GatewayHarness()
        chmod(harness.directory + "/pin.key", 0o644)
        let result = try await ExternalTool.captureDetached(
            try GatewayHarness.executable, ["--config", harness.configPath])
        #expect(result.status == 78)
        #expect(result.standardError.contains("keys.pinKeyFile") && result.standardError.contains("chmod 600"))
    }

    /// SIGTERM while locks keep asking: exit 0, every answered request has its audit record, the
    /// chain verifies, and the published audit head matches the file.
    @Test func sigtermUnderLoadExitsCleanlyWithEveryAnsweredRequestAudited() async throws {
        let harness = try await GatewayHarness()
        try await harness.startGateway()
        let load = Task {
            var sent = 0
            while !Task.isCancelled, sent < 5000 {
                let lock = "lock-\(sent % 3 + 1)"
                try? harness.device.publish(
                    MQTTMessage(
                        topic: "access/site-1/locks/\(lock)/request",
                        payload:
                            #"{"requestId":"L-\#(sent)","credential":{"type":"pin","value":"\#(10_000_000 + sent)"}}"#))
                sent += 1
                if sent % 50 == 0 { try? await Task.sleep(for: .milliseconds(5)) }
            }
        }
        _ = await eventually(timeout: .seconds(10)) {
            harness.inbox.messages.filter { $0.topic.hasSuffix("/decision") }.count >= 300
        }
        let gateway = try #require(harness.gateway)
        gateway.send(SIGTERM)
        #expect(await gateway.exited(within: .seconds(20)))
        load.cancel()
        if gateway.exitCode != 0 {
            try? harness.log().write(toFile: "/tmp/sigterm-gateway.log", atomically: true, encoding: .utf8)
        }
        // Every service stops in its turn: none ends early and gets the group cancelled mid-drain
        // (the HTTP endpoint once did, trapping SIGTERM itself; under load the cancellation then
        // outlasted its 5 s and the gateway crashed).
        #expect(!harness.log().contains("finished unexpectedly"), "\(harness.log().suffix(2000))")
        #expect(gateway.exitCode == 0, "\(harness.log().suffix(2000))")

        try await Task.sleep(for: .milliseconds(300))
        let answered = Set(
            harness.inbox.messages.filter { $0.topic.hasSuffix("/decision") }.compactMap {
                GatewayHarness.json($0.payload)?["requestId"] as? String
            })
        #expect(answered.count >= 300)
        let database = try DatabaseQueue(path: harness.databasePath)
        let audited = Set(
            try await database.read { db in
                try String.fetchAll(db, sql: "SELECT request_id FROM audit_log WHERE request_id IS NOT NULL")
            })
        #expect(answered.isSubset(of: audited), "answered but not audited: \(answered.subtracting(audited).prefix(5))")

        let head = harness.messages(on: harness.topics.auditHead(gatewayID: "gw-1")).last.flatMap {
            GatewayHarness.json($0.payload)
        }
        let seq = try #require(head?["seq"] as? Int64)
        let hash = try #require(head?["hash"] as? String)
        let pool = try DatabasePool(path: harness.databasePath)
        let verification = try AuditLog.verify(
            pool, expectedHead: AuditLog.AuditHead(seq: seq, hash: hash, timestampMs: 0))
        #expect(verification.isIntact && verification.verifiedRecords == seq)
        let status = harness.messages(on: harness.topics.gatewayStatus(gatewayID: "gw-1")).last?.payloadString ?? ""
        #expect(status.contains("\"online\":false"))
    }
}
