import AccessCore
import AccessProtocol
import AccessStore
import AccessTesting
import Foundation
import MQTTTesting
import Testing

/// The store under faults, with the real daemon: a full disk (a tmpfs the test mounts), a
/// read-only file system, a store file deleted or replaced under the running gateway, and starts
/// that must refuse (a lost store, a malformed one). `/healthz` names the reason and recovers.
@Suite(.serialized) struct StoreFaultTests {
    /// A small file system of its own, unmounted however the test ends: a tmpfs, or an ext4
    /// image on a loop device mounted `errors=remount-ro` (whose error trigger turns it read-only
    /// as a failing disk would: no remount can, while the store holds its files open for writing).
    final class Mount: Sendable {
        let path: String
        let image: String?

        init(megabytes: Int, ext4: Bool = false) throws {
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("store-mount-\(UUID())").path
            path = base
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            if ext4 {
                let image = base + ".img"
                self.image = image
                try ExternalTool.run("truncate", ["-s", "\(megabytes)M", image])
                try ExternalTool.run("mkfs.ext4", ["-q", "-F", image])
                try ExternalTool.run("mount", ["-o", "loop,errors=remount-ro", image, path])
            } else {
                image = nil
                try ExternalTool.run("mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", path])
            }
        }

        /// ext4 only: the kernel's own reaction to a file-system error.
        func failReadOnly() throws {
            let device = (ProcFile.read("/proc/mounts") ?? "").split(separator: "\n")
                .first { $0.split(separator: " ").dropFirst().first.map(String.init) == path }?
                .split(separator: " ").first.map { String($0.split(separator: "/").last ?? "") }
            guard let device, !device.isEmpty else { throw MountError("no device mounted at \(path)") }
            try "1".write(toFile: "/sys/fs/ext4/\(device)/trigger_fs_error", atomically: false, encoding: .utf8)
        }

        /// Fills the file system to the last byte (dd stops at ENOSPC).
        func fill() {
            _ = try? ExternalTool.run("dd", ["if=/dev/zero", "of=\(path)/filler", "bs=64k", "status=none"])
        }

        deinit {
            _ = try? ExternalTool.run("umount", ["-l", path])
            try? FileManager.default.removeItem(atPath: path)
            if let image { try? FileManager.default.removeItem(atPath: image) }
        }
    }

    struct MountError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    func grantRequest(_ harness: GatewayHarness, _ requestID: String, book: Bool = true) async throws -> String? {
        let booking = Self.booking(requestID)
        if book { try await harness.publishBooking(BookingMessage.upsert(booking).payload) }
        let token = harness.site.token(for: booking, jti: "t-\(requestID)")
        return try await harness.request(requestID: requestID, credential: .token(token))?["reason"] as? String
    }

    static func booking(_ requestID: String) -> Reservation {
        let now = GatewayHarness.nowMs() / 60_000 * 60_000
        return Reservation(
            id: "b-\(requestID)", spaceID: "room-1", holder: "u-1", startMs: now - 60_000, endMs: now + 3_600_000)
    }

    func health(_ harness: GatewayHarness) async -> (status: Int, body: String) {
        (try? await harness.http("/healthz")) ?? (0, "")
    }

    @Test func aFullDiskFailsHealthLosesNoGrantAndRecovers() async throws {
        let mount = try Mount(megabytes: 24)
        let harness = try await GatewayHarness(databaseDirectory: mount.path, minFreeMB: 2)
        try await harness.startGateway()
        #expect(await eventually(timeout: .seconds(10)) { await health(harness).status == 200 })
        #expect(try await grantRequest(harness, "r-1") == "granted")

        try await harness.publishBooking(BookingMessage.upsert(Self.booking("r-2")).payload)

        mount.fill()
        #expect(await eventually(timeout: .seconds(10)) { await health(harness).status == 503 })
        let full = await health(harness).body
        #expect(full.contains("disk nearly full"), "\(full)")
        // A commit may still fit in WAL space the file already has; whatever is decided, a grant
        // is one whose audit record is in the store (checked below), never one that was lost.
        let duringFull = try await grantRequest(harness, "r-2", book: false)
        #expect(duringFull == "granted" || duringFull == "internal_error", "\(duringFull ?? "no decision")")

        try FileManager.default.removeItem(atPath: mount.path + "/filler")
        #expect(await eventually(timeout: .seconds(10)) { await health(harness).status == 200 })
        #expect(try await grantRequest(harness, "r-3") == "granted")
        let stopping = ContinuousClock.now
        await harness.stop()
        #expect(
            harness.gateway?.exitCode == 0,
            "stopped after \(ContinuousClock.now - stopping), status \(String(describing: harness.gateway?.terminationStatus)); log:\n\(harness.log().suffix(3000))"
        )
        let store = try AccessStore(
            configuration: StoreConfiguration(path: harness.databasePath), pinIndex: harness.site.pinIndex)
        let audited = try store.auditRecords(afterSeq: 0, limit: 100).map(\.record)
        #expect(audited.contains { $0.requestID == "r-2" && $0.granted } == (duringFull == "granted"))
        #expect(audited.contains { $0.requestID == "r-3" && $0.granted })
    }

    @Test func aReadOnlyStoreFailsHealthAndNeverGrants() async throws {
        let mount = try Mount(megabytes: 64, ext4: true)
        let harness = try await GatewayHarness(databaseDirectory: mount.path, minFreeMB: 1)
        try await harness.startGateway()
        #expect(await eventually(timeout: .seconds(10)) { await health(harness).status == 200 })

        try mount.failReadOnly()
        #expect(await eventually(timeout: .seconds(10)) { await health(harness).status == 503 })
        let readOnly = await health(harness).body
        #expect(readOnly.contains("store cannot commit"), "\(readOnly)")
        let token = harness.site.token(
            for: Reservation(
                id: "b-x", spaceID: "room-1", holder: "u-1", startMs: 0, endMs: GatewayHarness.nowMs() + 3_600_000),
            jti: "t-x")
        let denied = try await harness.request(requestID: "r-ro", credential: .token(token))
        #expect(denied?["granted"] as? Bool == false)
        await harness.stop()
    }

    @Test func aStoreDeletedUnderTheGatewayRefusesCommitsAndTheNextStart() async throws {
        let harness = try await GatewayHarness()
        // systemd's side of the watchdog.
        let listener = try await NotifyListener(directory: harness.directory)
        defer { listener.stop() }
        try await harness.startGateway(environment: ["NOTIFY_SOCKET": listener.socketPath, "WATCHDOG_USEC": "400000"])
        #expect(try await grantRequest(harness, "r-1") == "granted")
        #expect(await eventually { listener.watchdogs > 1 })

        try FileManager.default.removeItem(atPath: harness.databasePath)
        #expect(await eventually(timeout: .seconds(10)) { await health(harness).status == 503 })
        #expect(await health(harness).body.contains("was deleted"))
        // The watchdog is no longer fed: systemd would restart the gateway.
        let fed = listener.watchdogs
        try await Task.sleep(for: .seconds(1))
        #expect(listener.watchdogs == fed)
        // Commits would go to a file no start will see again: refused, so no grant.
        #expect(try await grantRequest(harness, "r-2") == "internal_error")
        await harness.stop()

        // The state directory held a store: the next start refuses instead of starting empty.
        let refused = try harness.launchGateway()
        #expect(await refused.exited(within: .seconds(20)))
        #expect(refused.exitCode == 78)
        #expect(harness.log().contains("held one"), "\(harness.log().suffix(1500))")
        #expect(!FileManager.default.fileExists(atPath: harness.databasePath))

        // The operator's explicit --init creates an empty one.
        let initialized = try harness.launchGateway(["--init"])
        #expect(await eventually(timeout: .seconds(20)) { await health(harness).status == 200 })
        #expect(FileManager.default.fileExists(atPath: harness.databasePath))
        await initialized.terminated(SIGTERM, grace: .seconds(10))
        #expect(initialized.exitCode == 0)
    }

    @Test func aStoreReplacedUnderTheGatewayIsNoticed() async throws {
        let harness = try await GatewayHarness()
        try await harness.startGateway()
        #expect(await eventually(timeout: .seconds(10)) { await health(harness).status == 200 })
        let copy = harness.databasePath + ".copy"
        try FileManager.default.copyItem(atPath: harness.databasePath, toPath: copy)
        #expect(rename(copy, harness.databasePath) == 0)
        #expect(await eventually(timeout: .seconds(10)) { await health(harness).status == 503 })
        let replaced = await health(harness).body
        #expect(replaced.contains("was replaced"), "\(replaced)")
        #expect(try await grantRequest(harness, "r-1") == "internal_error")
        await harness.stop()
    }

    @Test func aMalformedStoreRefusesToStartWithAClearMessage() async throws {
        let harness = try await GatewayHarness()
        try await harness.startGateway()
        await harness.stop()
        for suffix in ["", "-wal", "-shm"] {
            try? FileManager.default.removeItem(atPath: harness.databasePath + suffix)
        }
        try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: harness.databasePath))
        let refused = try harness.launchGateway()
        #expect(await refused.exited(within: .seconds(20)))
        #expect(refused.exitCode == 78)
        #expect(harness.log().contains("is malformed"), "\(harness.log().suffix(1500))")
    }
}
