import AccessCore
import AccessProtocol
import AccessStore
import AccessTesting
import Foundation
import MQTTTesting
import Testing

/// The built `accessctl` as an operator runs it: arguments in, stdout, stderr and exit code out,
/// against a real store.
@Suite struct AccessCtlTests {
    static let start: Int64 = 1_795_276_800_000

    func tool() throws -> String { try #require(PackagePaths.executable("accessctl"), "build the package first") }

    /// A store with three reservations and a few audited decisions, and the pin key file.
    func fixture() async throws -> (TemporaryStore, [String]) {
        let store = try TemporaryStore()
        let booking = Reservation(
            id: "b-1", spaceID: "room-1", holder: "u-1", startMs: Self.start, endMs: Self.start + 3_600_000)
        let other = Reservation(
            id: "b-2", spaceID: "room-2", holder: "u-2", startMs: Self.start, endMs: Self.start + 3_600_000)
        let later = Reservation(
            id: "b-3", spaceID: "room-1", holder: "u-1", startMs: Self.start + 86_400_000,
            endMs: Self.start + 90_000_000)
        try store.insert([booking, other, later])
        for (index, credential) in [Credential.pin(store.testSite.pin(of: booking)), .pin("00000000")].enumerated() {
            let payload = TestSite.requestPayload(requestID: "r-\(index)", credential: credential)
            _ = await store.engine.handle(lockID: "lock-1", payload: payload, nowMs: Self.start + 1000)
        }
        let key = store.directory + "/pin.key"
        #expect(
            FileManager.default.createFile(
                atPath: key,
                contents: Data((TestSite.pinKeyBytes.map { String(format: "%02x", $0) }.joined() + "\n").utf8),
                attributes: [.posixPermissions: 0o600]))
        return (store, ["--database", store.path, "--site-id", "site-1", "--pin-key-file", key])
    }

    @Test func reservationsPinsAndTokens() async throws {
        let (store, options) = try await fixture()
        let list = try await ExternalTool.captureDetached(
            try tool(), ["reservations", "list", "--space", "room-1", "--json"] + options)
        #expect(list.status == 0, "\(list.standardError)")
        #expect(list.standardOutput.split(separator: "\n").count == 2 && list.standardOutput.contains("\"id\":\"b-3\""))
        let active = try await ExternalTool.captureDetached(
            try tool(), ["reservations", "list", "--active-at", "2026-11-21T16:30:00Z"] + options)
        #expect(
            active.standardOutput.contains("b-1") && active.standardOutput.contains("b-2")
                && !active.standardOutput.contains("b-3"))

        let pin = try await ExternalTool.captureDetached(try tool(), ["pins", "show", "b-1"] + options)
        let b1 = try #require(try store.store.reservation(id: "b-1"))
        #expect(pin.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) == store.testSite.pin(of: b1))

        let missing = try await ExternalTool.captureDetached(try tool(), ["reservations", "show", "b-9"] + options)
        #expect(missing.status == 1 && missing.standardError.contains("no reservation b-9"))
        #expect(missing.standardError.split(separator: "\n").count == 1)

        let cancel = try await ExternalTool.captureDetached(try tool(), ["reservations", "cancel", "b-2"] + options)
        #expect(cancel.status == 0)
        #expect(try store.store.reservation(id: "b-2")?.status == .cancelled)
        let revoke = try await ExternalTool.captureDetached(try tool(), ["reservations", "revoke", "t-77"] + options)
        let revoked = try store.store.isRevoked(jti: "t-77")
        #expect(revoke.status == 0 && revoked)

        // A token minted by accessctl opens the door.
        let issuerKey = store.directory + "/issuer.key"
        #expect(
            FileManager.default.createFile(
                atPath: issuerKey,
                contents: Data(
                    (Array(store.testSite.minter.privateKey.rawRepresentation).map { String(format: "%02x", $0) }
                        .joined()
                        + "\n").utf8),
                attributes: [.posixPermissions: 0o600]))
        let token = try await ExternalTool.captureDetached(
            try tool(), ["tokens", "issue", "--reservation", "b-1", "--private-key", issuerKey] + options)
        #expect(token.status == 0, "\(token.standardError)")
        let payload = TestSite.requestPayload(
            requestID: "r-t", credential: .token(token.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)))
        guard
            case .decided(let decided) = await store.engine.handle(
                lockID: "lock-1", payload: payload, nowMs: Self.start + 2000)
        else {
            Issue.record("no decision")
            return
        }
        #expect(decided.decision.reason == .granted)
    }

    @Test func auditVerifyQueryExportAndTamper() async throws {
        let (store, options) = try await fixture()
        let verify = try await ExternalTool.captureDetached(try tool(), ["audit", "verify"] + options)
        #expect(verify.status == 0 && verify.standardOutput.contains("intact: 2 records"))
        let query = try await ExternalTool.captureDetached(
            try tool(), ["audit", "query", "--outcome", "granted", "--json"] + options)
        #expect(
            query.standardOutput.split(separator: "\n").count == 1
                && query.standardOutput.contains("\"reason\":\"granted\""))
        let export = try await ExternalTool.captureDetached(
            try tool(), ["audit", "export", "--format", "csv"] + options)
        #expect(
            export.standardOutput.hasPrefix("seq,ts,gatewayId")
                && export.standardOutput.split(separator: "\n").count == 3)
        let tail = try await ExternalTool.captureDetached(try tool(), ["audit", "tail", "-n", "1", "--json"] + options)
        #expect(tail.standardOutput.contains("\"seq\":2") && !tail.standardOutput.contains("\"seq\":1"))

        try ExternalTool.run(
            "sqlite3", [store.path, "UPDATE audit_log SET reason = 'granted', granted = 1 WHERE seq = 2"])
        let broken = try await ExternalTool.captureDetached(try tool(), ["audit", "verify"] + options)
        #expect(broken.status == 1 && broken.standardError.contains("record 2 does not match its hash"))
        let check = try await ExternalTool.captureDetached(try tool(), ["db", "check"] + options)
        #expect(check.status == 1)
    }

    @Test func dbBackupStatsAndKeys() async throws {
        let (store, options) = try await fixture()
        let backup = try await ExternalTool.captureDetached(
            try tool(), ["db", "backup", store.directory + "/copy.sqlite"] + options)
        #expect(
            backup.status == 0 && backup.standardOutput.contains("2 audit records, chain intact"),
            "\(backup.standardError)")
        let again = try await ExternalTool.captureDetached(
            try tool(), ["db", "backup", store.directory + "/copy.sqlite"] + options)
        #expect(again.status != 0 && again.standardError.contains("exists"))
        let stats = try await ExternalTool.captureDetached(try tool(), ["db", "stats", "--json"] + options)
        #expect(
            stats.standardOutput.contains("\"reservations\":3")
                && stats.standardOutput.contains("\"journal_mode\":\"wal\""))

        let site = store.directory + "/site.key"
        let pin = store.directory + "/new-pin.key"
        let generate = try await ExternalTool.captureDetached(
            try tool(), ["keys", "generate", "--site-key", site, "--pin-key", pin])
        #expect(generate.status == 0)
        let attributes = try FileManager.default.attributesOfItem(atPath: site)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let refuse = try await ExternalTool.captureDetached(
            try tool(), ["keys", "generate", "--site-key", site, "--pin-key", pin])
        #expect(refuse.status == 1 && refuse.standardError.contains("--force"))
        let device = try await ExternalTool.captureDetached(
            try tool(), ["keys", "device", "lock", "lock-1", "--site-key", site, "--site-id", "site-1"])
        let expected = DeviceKeys(siteKey: try SecretKeyFile.load(path: site), siteID: "site-1").lockKey(
            lockID: "lock-1"
        )
        .withUnsafeBytes { $0.map { String(format: "%02x", $0) }.joined() }
        #expect(device.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) == expected)
    }

    @Test func theExampleInventoryImports() async throws {
        let (store, options) = try await fixture()
        let example = PackagePaths.root + "/config/site-inventory.example.yaml"
        // The fixture's store holds another inventory: it is replaced only with --yes.
        let asked = try await ExternalTool.captureDetached(try tool(), ["site", "import", example] + options)
        #expect(asked.status == 1 && asked.standardError.contains("--yes"), "\(asked.standardError)")
        let result = try await ExternalTool.captureDetached(try tool(), ["site", "import", example, "--yes"] + options)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("3 spaces, 7 locks, 2 poles"))
        let site = try #require(try store.store.loadSite())
        #expect(site.spaces["school-gym"]?.poleIDs == ["pole-north", "pole-east"])
        // Device profiles survive the store.
        #expect(
            site.locks["studio-side"]
                == Lock(
                    id: "studio-side", spaceID: "studio-a", profile: .zigbee2mqtt, device: "studio_side",
                    pinSlots: 10...29))
        #expect(site.locks["gym-back"]?.profile == .esphomeWiegand && site.locks["lock-mr1"]?.profile == .contract)
    }

    @Test func badInvocationsSayWhatToFixAndChangeNothing() async throws {
        let (store, options) = try await fixture()
        let before = (
            try store.store.statistics().filter { $0.0 != "database_bytes" }.map { "\($0)" }, store.auditLog.head
        )
        let cases: [([String], Int32, String)] = [
            (
                [
                    "reservations", "list", "--database", store.directory + "/none.sqlite", "--site-id", "site-1",
                    "--pin-key-file", options[5],
                ], 1, "no database"
            ),
            (["reservations", "list", "--status", "maybe"] + options, 64, "--status"),
            (["reservations", "show", "../x"] + options, 64, "not a reservation id"),
            (["audit", "export", "--format", "xml"] + options, 64, "--format"),
            (
                ["audit", "verify", "--head", "-9223372036854775808:" + String(repeating: "0", count: 64)] + options,
                64, "--head"
            ),
            (["nonsense"], 64, "nonsense"),
            (["reservations", "list", "--active-at", "yesterday"] + options, 64, "RFC 3339"),
        ]
        for (arguments, status, message) in cases {
            let result = try await ExternalTool.captureDetached(try tool(), arguments)
            #expect(result.status == status, "\(arguments): \(result.standardError)")
            #expect(result.standardError.contains(message), "\(arguments): \(result.standardError)")
        }
        // A corrupt database file: one line, non-zero.
        let corrupt = store.directory + "/corrupt.sqlite"
        try Data(repeating: 0x42, count: 8192).write(to: URL(fileURLWithPath: corrupt))
        let result = try await ExternalTool.captureDetached(
            try tool(), ["db", "check", "--database", corrupt, "--site-id", "site-1", "--pin-key-file", options[5]])
        #expect(result.status != 0 && !result.standardError.isEmpty)
        let after = (
            try store.store.statistics().filter { $0.0 != "database_bytes" }.map { "\($0)" },
            try AuditLog.verify(store.store.pool).head
        )
        #expect(after.0 == before.0 && after.1 == before.1)
    }
}
