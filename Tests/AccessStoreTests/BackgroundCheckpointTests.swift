import AccessCore
import AccessProtocol
import AccessStore
import AccessTesting
import Testing

/// With background checkpoints, no commit copies the WAL into the database file (SQLite's
/// automatic checkpoint would, past 1,000 pages); `checkpointPassively` does it instead.
@Suite struct BackgroundCheckpointTests {
    /// Appends `count` audit records, 64 at a time, and returns the WAL's size in pages after.
    func fill(_ store: TemporaryStore, count: Int) async throws -> Int {
        let log = store.auditLog
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<64 {
                group.addTask {
                    var index = worker
                    while index < count {
                        let record = AuditRecord(
                            timestampMs: 1_000 + Int64(index), gatewayID: "gw-1", lockID: "lock-1",
                            requestID: "r-\(index)-" + String(repeating: "x", count: 40), credentialType: "pin",
                            granted: true, reason: .granted)
                        _ = try await log.append(record)
                        index += 64
                    }
                }
            }
            try await group.waitForAll()
        }
        return try store.store.checkpoint(.passive).walFrames
    }

    @Test func commitsLeaveTheWALAloneAndTheBackgroundCheckpointCopiesIt() async throws {
        let background = try TemporaryStore(backgroundCheckpoints: true)
        defer { background.remove() }
        let walPages = try await fill(background, count: 12_000)
        #expect(walPages > 1_000, "the WAL was checkpointed by a commit (\(walPages) pages)")
        // The checkpoint above copied everything: a second one has nothing left behind it.
        let again = try background.store.checkpoint(.passive)
        #expect(again.checkpointedFrames == again.walFrames)

        // The control: SQLite's automatic checkpoint keeps the WAL near 1,000 pages.
        let automatic = try TemporaryStore()
        defer { automatic.remove() }
        let automaticPages = try await fill(automatic, count: 12_000)
        #expect(automaticPages < walPages, "automatic \(automaticPages), background \(walPages)")
    }
}
