import AccessCore
import AccessProtocol
import AccessStore
import AccessTesting
import GRDB
import MQTTTesting
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// NDJSON bulk import, in process and through the real `accessctl` binary, including a process
/// killed in the middle of an import.
@Suite struct BookingImportTests {
    static func upsertLine(_ index: Int, version: Int = 1) -> String {
        let hour = index % 20
        return
            #"{"op":"upsert","reservation":{"id":"b-\#(index)","spaceId":"room-\#(index % 3 + 1)","holder":"u-\#(index % 97)","start":"2026-11-21T\#(hour / 10)\#(hour % 10):00:00Z","end":"2026-11-21T\#(hour / 10)\#(hour % 10):45:00+00:00","status":"confirmed","version":\#(version),"graceBeforeMin":10}}"#
    }

    static let mixed =
        [
            upsertLine(1), upsertLine(2),
            #"{"op":"upsert","reservation":{"id":"b-3","spaceId":"room-1"}}"#,
            "", upsertLine(1),
            "not json at all",
            #"{"op":"cancel","id":"b-2","version":2}"#,
            #"{"op":"revoke","jti":"t-1"}"#,
            #"{"op":"upsert","reservation":{"id":"b-4","spaceId":"room-1","holder":"u","start":"2026-11-21T10:00:00Z","end":"2026-11-21T09:00:00Z","status":"confirmed","version":1}}"#,
        ].joined(separator: "\r\n") + "\n"

    @Test func badLinesAreReportedWithTheirNumberAndTheRestApplies() throws {
        let store = try TemporaryStore()
        let summary = try BookingImport(batchSize: 2).run(ndjson: Array(Self.mixed.utf8), into: store.store, nowMs: 0)
        #expect(summary.lines == 8)
        #expect(summary.applied == 4 && summary.ignoredAsOlder == 1)
        #expect(summary.rejected.map(\.line) == [3, 6, 9])
        #expect(summary.rejected[2].problem.contains("end is not after start"))
        #expect(try store.store.reservation(id: "b-2")?.status == .cancelled)
        #expect(try store.store.isRevoked(jti: "t-1"))
        // Importing the same file again changes nothing.
        let again = try BookingImport().run(ndjson: Array(Self.mixed.utf8), into: store.store, nowMs: 0)
        #expect(again.applied == 0 && again.ignoredAsOlder == 4 && again.unchanged == 1)
    }

    func writeFile(_ path: String, _ text: String) throws {
        guard let file = fopen(path, "wb") else { throw TemporaryStoreError.cannotCreateDirectory }
        defer { fclose(file) }
        _ = Array(text.utf8).withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
    }

    func keyFile(in directory: String) throws -> String {
        let path = directory + "/pin.key"
        try writeFile(path, TestSite.pinKeyBytes.map { String(format: "%02x", $0) }.joined() + "\n")
        chmod(path, 0o600)
        return path
    }

    @Test func theCLIReportsBadLinesAndExitsNonZero() async throws {
        let store = try TemporaryStore()
        let accessctl = try #require(PackagePaths.executable("accessctl"), "build the package first")
        let file = store.directory + "/bookings.ndjson"
        try writeFile(file, Self.mixed)
        let key = try keyFile(in: store.directory)
        let arguments = [
            "reservations", "import", "--database", store.path, "--site-id", "site-1", "--pin-key-file", key,
        ]
        // By default a file with a bad line changes nothing.
        let refused = try await ExternalTool.captureDetached(accessctl, arguments + [file])
        #expect(refused.status == 1 && refused.standardError.contains("nothing imported: 3 bad lines"))
        #expect(refused.standardError.contains("bookings.ndjson:3: upsert: holder missing"))
        #expect(try store.store.reservationCount() == 0)
        let result = try await ExternalTool.captureDetached(accessctl, arguments + ["--skip-bad-lines", file])
        #expect(result.status == 1)
        #expect(result.standardError.contains("bookings.ndjson:3: upsert: holder missing"))
        #expect(result.standardError.contains("bookings.ndjson:6: not a JSON object"))
        #expect(result.standardOutput.contains("applied 4"))
        #expect(try store.store.reservation(id: "b-1") != nil)

        // Wrong arguments: a one-line reason, non-zero, nothing changed.
        let missing = try await ExternalTool.captureDetached(accessctl, arguments + [store.directory + "/nope.ndjson"])
        #expect(missing.status != 0 && missing.standardError.contains("nope.ndjson"))
        let badSite = try await ExternalTool.captureDetached(
            accessctl,
            ["reservations", "import", "--database", store.path, "--site-id", "a/b", "--pin-key-file", key, file])
        #expect(badSite.status != 0 && badSite.standardError.contains("--site-id"))
        chmod(key, 0o644)
        let openKey = try await ExternalTool.captureDetached(accessctl, arguments + [file])
        #expect(openKey.status != 0 && openKey.standardError.contains("chmod 600"))
    }

    /// A process killed in the middle of a batch import leaves the store consistent: every batch
    /// is in whole or not at all, the file passes integrity_check, and importing again completes it.
    @Test func aKilledImportLeavesTheStoreConsistent() async throws {
        let store = try TemporaryStore()
        let accessctl = try #require(PackagePaths.executable("accessctl"), "build the package first")
        // Small batches with synchronous=FULL: hundreds of synced commits, so the import is still
        // running when it is killed even on a loaded machine.
        let lines = 60_000
        let batch = 100
        let file = store.directory + "/bulk.ndjson"
        try writeFile(file, (0..<lines).map { Self.upsertLine($0) }.joined(separator: "\n"))
        let key = try keyFile(in: store.directory)
        let arguments = [
            "reservations", "import", "--database", store.path, "--site-id", "site-1", "--pin-key-file", key,
            "--batch-size", String(batch), file,
        ]
        let child = try ChildProcess(executable: accessctl, arguments: arguments)
        var seen = 0
        for _ in 0..<5000 {
            seen = try store.store.reservationCount()
            if seen >= batch * 2 || !child.isRunning { break }
            try await Task.sleep(for: .milliseconds(2))
        }
        #expect(child.isRunning, "the import finished before it could be killed; make the file larger")
        child.send(SIGKILL)
        _ = child.waitForExit(timeout: .seconds(5))
        #expect(child.terminatingSignal == SIGKILL)

        let count = try store.store.reservationCount()
        #expect(count > 0 && count < lines)
        #expect(count % batch == 0, "a batch was half-applied: \(count) rows")
        #expect(try store.store.integrityProblems().isEmpty)

        let finish = try await ExternalTool.captureDetached(accessctl, arguments)
        #expect(finish.status == 0, "\(finish.standardError)")
        #expect(try store.store.reservationCount() == lines)
        #expect(finish.standardOutput.contains("ignored as older \(count)"))
    }
}
