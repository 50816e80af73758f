import AccessCore
import AccessGateway
import AccessProtocol
import AccessTesting
import Foundation
import MQTT
import MQTTTesting
import Testing

/// `accessctl` against a running gateway: a remote unlock audited with the operator's reason, and
/// `audit tail --follow` seeing decisions as they are made.
@Suite(.serialized) struct OperatorTests {
    static func accessctl() throws -> String {
        try #require(PackagePaths.executable("accessctl"), "build the package first")
    }

    @Test func anOperatorUnlockIsAuditedWithTheReasonAndSignedForTheLock() async throws {
        let harness = try await GatewayHarness()
        try await harness.startGateway()
        let result = try await ExternalTool.captureDetached(
            try Self.accessctl(),
            [
                "unlock", "lock-1", "--reason", "guest locked out, \"urgent\"", "--operator", "alice", "--config",
                harness.configPath,
            ])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.hasPrefix("lock-1 unlocked by alice (audit seq "), "\(result.standardOutput)")
        #expect(result.standardOutput.contains("guest locked out"))
        // The note is in the journal too, and `--json` prints the gateway's answer itself.
        #expect(harness.log().contains(#"note="guest locked out, \"urgent\"""#), "\(harness.log().suffix(1500))")
        let asJSON = try await ExternalTool.captureDetached(
            try Self.accessctl(), ["unlock", "lock-1", "--reason", "again", "--json", "--config", harness.configPath])
        #expect(asJSON.standardOutput.contains(#""granted":true"#), "\(asJSON.standardOutput)\(asJSON.standardError)")
        let command = try #require(await harness.inbox.first(on: harness.topics.command(lockID: "lock-1")))
        let json = try #require(GatewayHarness.json(command.payload))
        let canonical = CommandMAC.lockCanonical(
            siteID: "site-1", lockID: "lock-1", commandID: json["commandId"] as? String ?? "", action: "unlock",
            unlockForS: 5, issuedAt: json["issuedAt"] as? Int64 ?? 0, notAfter: json["notAfter"] as? Int64 ?? 0)
        #expect(
            CommandMAC.verify(
                mac: json["mac"] as? String ?? "", canonical: canonical,
                key: harness.site.deviceKeys.lockKey(lockID: "lock-1")))

        let store = [
            "--database", harness.databasePath, "--site-id", "site-1", "--pin-key-file", harness.directory + "/pin.key",
        ]
        // The gateway's own configuration is enough to find the store and its keys.
        let audit = try await ExternalTool.captureDetached(
            try Self.accessctl(), ["audit", "query", "--json", "--config", harness.configPath])
        #expect(audit.standardOutput.contains(#""operator":"alice""#))
        #expect(audit.standardOutput.contains(#""note":"guest locked out, \"urgent\"""#))
        let verified = try await ExternalTool.captureDetached(try Self.accessctl(), ["audit", "verify"] + store)
        #expect(verified.status == 0)

        // A lock that is not configured, and a gateway that is not there.
        let unknown = try await ExternalTool.captureDetached(
            try Self.accessctl(), ["unlock", "lock-9", "--reason", "x", "--config", harness.configPath])
        #expect(unknown.status == 1 && unknown.standardError.contains("not in the site's inventory"))
        await harness.stop()
        let gone = try await ExternalTool.captureDetached(
            try Self.accessctl(),
            ["unlock", "lock-1", "--reason", "x", "--timeout", "2", "--config", harness.configPath])
        #expect(gone.status == 1 && gone.standardError.contains("did not answer"))
    }

    /// Replayed (in the same run and after a restart), forged, stale, meant for another gateway of
    /// the site, or with an `issuedAt` that would overflow: refused, and the gateway keeps running.
    @Test func aReplayedOrForgedOperatorRequestIsRefused() async throws {
        let harness = try await GatewayHarness()
        try await harness.startGateway()
        let operatorKey = OperatorUnlock.operatorKey(siteKey: harness.site.siteKey, siteID: "site-1")
        func unlock(_ requestID: String, gateway: String = "gw-1", issuedAtMs: Int64 = GatewayHarness.nowMs())
            -> OperatorUnlock
        {
            OperatorUnlock(
                siteID: "site-1", gatewayID: gateway, requestID: requestID, lockID: "lock-2", operatorName: "bob",
                note: "test", issuedAtMs: issuedAtMs, operatorKey: operatorKey)
        }
        let first = unlock("op-1")
        let topic = harness.topics.operatorUnlock(gatewayID: "gw-1")
        try await harness.device.publishAcknowledged(MQTTMessage(topic: topic, payload: first.payload))
        try await harness.device.publishAcknowledged(MQTTMessage(topic: topic, payload: first.payload))
        let forged = OperatorUnlock(
            siteID: "site-1", gatewayID: "gw-1", requestID: "op-2", lockID: "lock-2", operatorName: "mallory",
            note: "test", issuedAtMs: GatewayHarness.nowMs(),
            operatorKey: OperatorUnlock.operatorKey(siteKey: .init(size: .bits256), siteID: "site-1"))
        try await harness.device.publishAcknowledged(MQTTMessage(topic: topic, payload: forged.payload))
        let stale = unlock("op-3", issuedAtMs: GatewayHarness.nowMs() - 60_000)
        try await harness.device.publishAcknowledged(MQTTMessage(topic: topic, payload: stale.payload))
        // Signed for another gateway of the site: its MAC does not verify here.
        let elsewhere = unlock("op-4", gateway: "gw-2")
        try await harness.device.publishAcknowledged(MQTTMessage(topic: topic, payload: elsewhere.payload))
        // An issuedAt near Int64.min: `now - issuedAt` would overflow.
        let extreme = unlock("op-5", issuedAtMs: .min + 1)
        try await harness.device.publishAcknowledged(MQTTMessage(topic: topic, payload: extreme.payload))
        try await Task.sleep(for: .milliseconds(500))
        #expect(harness.messages(on: harness.topics.command(lockID: "lock-2")).count == 1)
        let results = harness.messages(on: harness.topics.operatorResult(gatewayID: "gw-1")).compactMap(\.payloadString)
        #expect(results.filter { $0.contains("\"granted\":true") }.count == 1)
        #expect(results.filter { $0.contains("bad operator MAC") }.count == 2)
        #expect(results.filter { $0.contains("not fresh") }.count == 2)

        // After a restart the replay is still recognised (from the audit log).
        await harness.stop()
        try await harness.startGateway()
        try await harness.device.publishAcknowledged(MQTTMessage(topic: topic, payload: first.payload))
        try await Task.sleep(for: .milliseconds(500))
        #expect(harness.messages(on: harness.topics.command(lockID: "lock-2")).count == 1)
    }

    @Test func aBackupTakenDuringLoadOpensAndVerifies() async throws {
        let harness = try await GatewayHarness()
        try await harness.startGateway()
        let load = Task {
            var sent = 0
            while !Task.isCancelled {
                try? harness.device.publish(
                    MQTTMessage(
                        topic: "access/site-1/locks/lock-\(sent % 3 + 1)/request",
                        payload:
                            #"{"requestId":"B-\#(sent)","credential":{"type":"pin","value":"\#(20_000_000 + sent)"}}"#))
                sent += 1
                if sent % 20 == 0 { try? await Task.sleep(for: .milliseconds(5)) }
            }
        }
        defer { load.cancel() }
        _ = await eventually(timeout: .seconds(10)) {
            harness.inbox.messages.filter { $0.topic.hasSuffix("/decision") }.count >= 200
        }
        let copy = harness.directory + "/backup.sqlite"
        let result = try await ExternalTool.captureDetached(
            try Self.accessctl(),
            [
                "db", "backup", copy, "--database", harness.databasePath, "--site-id", "site-1", "--pin-key-file",
                harness.directory + "/pin.key",
            ])
        load.cancel()
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("chain intact"))
        let check = try await ExternalTool.captureDetached(
            try Self.accessctl(),
            [
                "db", "check", "--database", copy, "--site-id", "site-1", "--pin-key-file",
                harness.directory + "/pin.key",
            ])
        #expect(check.status == 0, "\(check.standardError)")
    }

    /// `devices` shows each device's open alarms: a column in the table (8 cells for 8 headers)
    /// and a list in `--json`.
    @Test func devicesListsOpenAlarms() async throws {
        let harness = try await GatewayHarness()
        try await harness.startGateway()
        try await harness.device.publishAcknowledged(
            MQTTMessage(topic: harness.topics.event(lockID: "lock-1"), payload: DeviceMessages.alarm("tamper", ts: 1)))
        let store = [
            "--database", harness.databasePath, "--site-id", "site-1", "--pin-key-file", harness.directory + "/pin.key",
        ]
        let accessctl = try Self.accessctl()
        var listed = ""
        let stored = await eventually(timeout: .seconds(10)) {
            listed =
                (try? await ExternalTool.captureDetached(accessctl, ["devices", "--json"] + store))?
                .standardOutput ?? ""
            return listed.contains(#""id":"lock-1""#) && listed.contains(#""openAlarms":["tamper"]"#)
        }
        #expect(stored, "\(listed)")
        #expect(listed.contains(#""id":"lock-2""#) ? listed.contains(#""openAlarms":[]"#) : true)
        let table = try await ExternalTool.captureDetached(accessctl, ["devices"] + store)
        let rows = table.standardOutput.split(separator: "\n")
        #expect(rows.first?.hasSuffix("OPEN ALARMS") == true)
        let lock1 = rows.first {
            $0.hasPrefix("lock  lock-1") || $0.split(separator: " ").dropFirst().first == "lock-1"
        }
        #expect(lock1?.hasSuffix("tamper") == true, "\(table.standardOutput)")
        await harness.stop()
    }

    @Test func auditTailFollowsTheRunningGateway() async throws {
        let harness = try await GatewayHarness()
        try await harness.startGateway()
        let output = harness.directory + "/tail.out"
        let tail = try ChildProcess(
            executable: try Self.accessctl(),
            arguments: [
                "audit", "tail", "--follow", "--database", harness.databasePath, "--site-id", "site-1",
                "--pin-key-file",
                harness.directory + "/pin.key",
            ], outputFile: URL(fileURLWithPath: output))
        defer { tail.terminate(SIGTERM, grace: .seconds(2)) }
        try await Task.sleep(for: .milliseconds(500))
        _ = try await harness.request(requestID: "followed-1", credential: .pin("12345678"))
        let seen = await eventually(timeout: .seconds(5)) {
            ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").contains("followed-1")
        }
        #expect(seen, "tail --follow did not print the new record")
    }
}

/// The inventory from a file, through `accessctl site import`, used by a gateway whose
/// configuration lists none.
@Suite(.serialized) struct SiteInventoryTests {
    @Test func anImportedInventoryServesAGatewayWithoutOne() async throws {
        let harness = try await GatewayHarness(inventoryInConfig: false)
        let accessctl = try OperatorTests.accessctl()
        let store = [
            "--database", harness.databasePath, "--site-id", "site-1", "--pin-key-file", harness.directory + "/pin.key",
        ]
        let bad = harness.directory + "/bad.yaml"
        try "spaces: [{id: room-1}]\nlocks: [{id: lock-1, space: room-9}]\n".write(
            toFile: bad, atomically: true, encoding: .utf8)
        let refused = try await ExternalTool.captureDetached(accessctl, ["site", "import", bad] + store)
        #expect(refused.status == 1 && refused.standardError.contains("space room-9"), "\(refused.standardError)")

        let inventory = harness.directory + "/site.yaml"
        try """
        spaces:
          - {id: room-1, poles: [pole-1]}
          - id: room-2
        locks:
          - {id: lock-1, space: room-1}
          - {id: lock-2, space: room-2}
        poles: [pole-1]
        """.write(toFile: inventory, atomically: true, encoding: .utf8)
        let imported = try await ExternalTool.captureDetached(accessctl, ["site", "import", inventory] + store)
        #expect(imported.status == 0, "\(imported.standardError)")
        let shown = try await ExternalTool.captureDetached(accessctl, ["site", "show", "--json"] + store)
        #expect(shown.standardOutput.contains(#""lock-2":"room-2""#), "\(shown.standardOutput)")

        try await harness.startGateway()
        let decision = try await harness.request(lockID: "lock-2", requestID: "inv-1", credential: .pin("12345678"))
        #expect(decision?["reason"] as? String == "invalid_credential")
        _ = try await harness.request(
            lockID: "lock-3", requestID: "inv-2", credential: .pin("12345678"), timeout: .seconds(5))
        let unknown = harness.messages(on: harness.topics.decision(lockID: "lock-3")).first
        #expect(unknown.flatMap { GatewayHarness.json($0.payload)?["reason"] as? String } == "unknown_lock")
    }

    /// `site import` is strict and shows what it would change; `devices add|remove` edits one
    /// device of the stored inventory.
    @Test func anImportNamesItsErrorsShowsItsChangesAndReplacesOnlyWithYes() async throws {
        let harness = try await GatewayHarness(inventoryInConfig: false)
        let accessctl = try OperatorTests.accessctl()
        let store = [
            "--database", harness.databasePath, "--site-id", "site-1", "--pin-key-file", harness.directory + "/pin.key",
        ]
        func run(_ arguments: [String]) async throws -> ExternalTool.Captured {
            try await ExternalTool.captureDetached(accessctl, arguments + store)
        }
        let file = harness.directory + "/site.yaml"
        func write(_ text: String) throws { try text.write(toFile: file, atomically: true, encoding: .utf8) }

        try write("spaces: [room-1]\nlokcs:\n  - {id: lock-1, space: room-1}\n")
        let misspelt = try await run(["site", "import", file])
        #expect(misspelt.status == 1 && misspelt.standardError.contains("line 2, column 1: unknown key \"lokcs\""))
        try write("spaces: [room-1]\nlocks:\n  - {id: lock-1, spcae: room-1}\n")
        let inner = try await run(["site", "import", file])
        #expect(
            inner.standardError.contains("line 3, column 18: unknown key \"spcae\" in a lock"), "\(inner.standardError)"
        )
        try write("spaces: [room-1\nlocks: {\n")
        let broken = try await run(["site", "import", file])
        #expect(broken.status == 1 && broken.standardError.contains("error: "), "\(broken.standardError)")

        try write(
            "spaces: [{id: room-1, poles: [pole-1]}, room-2]\nlocks: [{id: lock-1, space: room-1}]\npoles: [pole-1]\n")
        let first = try await run(["site", "import", file])
        #expect(first.status == 0 && first.standardOutput.contains("+ lock lock-1 in room-1"), "\(first.standardError)")
        try write(
            "spaces: [{id: room-1, poles: [pole-1]}, room-2]\nlocks: [{id: lock-1, space: room-2}]\npoles: [pole-1]\n")
        let asked = try await run(["site", "import", file])
        #expect(asked.status == 1 && asked.standardOutput.contains("~ lock lock-1 in room-2 (was room-1)"))
        #expect(asked.standardError.contains("--yes"))
        #expect(try await run(["site", "show", "--json"]).standardOutput.contains(#""lock-1":"room-1""#))
        #expect(try await run(["site", "import", file, "--yes"]).status == 0)
        #expect(try await run(["site", "show", "--json"]).standardOutput.contains(#""lock-1":"room-2""#))
        #expect(try await run(["site", "import", file]).standardOutput.contains("unchanged"))

        let added = try await run(["devices", "add", "lock", "lock-7", "--space", "room-1"])
        #expect(added.status == 0 && added.standardOutput.contains("+ lock lock-7 in room-1"), "\(added.standardError)")
        #expect(try await run(["devices", "add", "lock", "lock-8", "--space", "room-9"]).status == 1)
        let removed = try await run(["devices", "remove", "pole", "pole-1"])
        #expect(removed.status == 0 && removed.standardOutput.contains("- pole pole-1"), "\(removed.standardError)")
        let shown = try await run(["site", "show", "--json"]).standardOutput
        #expect(shown.contains(#""lock-7":"room-1""#) && !shown.contains("pole-1"), "\(shown)")
    }

    @Test func aGatewayWithNoInventoryAnywhereRefusesToStart() async throws {
        let harness = try await GatewayHarness(inventoryInConfig: false)
        let result = try await ExternalTool.captureDetached(
            try GatewayHarness.executable, ["--config", harness.configPath])
        #expect(result.status == 78 && result.standardError.contains("site.spaces"), "\(result.standardError)")
    }
}
