import AccessCore
import AccessProtocol
import AccessStore
import AccessTesting
import Dispatch
import Foundation
import Testing

/// With background checkpoints, no commit copies the WAL into the database file (SQLite's
/// automatic checkpoint would, past 1,000 pages); `checkpoint(.passive)` does it instead, and
/// `maintainWAL` keeps the file bounded without holding commits up behind a reader.
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

    @Test func aPinnedWALIsLeftAloneAndRestartedOnceNothingPinsIt() async throws {
        let temporary = try TemporaryStore(backgroundCheckpoints: true)
        defer { temporary.remove() }
        let store = temporary.store
        // A reader holds a snapshot from before the fill: no checkpoint can copy past it.
        let holding = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let reader = Thread {
            try? store.pool.read { db in
                _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_log")
                holding.signal()
                release.wait()
            }
        }
        reader.start()
        holding.wait()
        _ = try await fill(temporary, count: 12_000)
        let pinned = store.file.walBytes()
        #expect(pinned > AccessStore.walRestartBytes)

        // While pinned: the passive checkpoint cannot finish, so nothing waits on the reader.
        let whilePinned = try store.maintainWAL()
        #expect(whilePinned.mode == .passive && whilePinned.checkpointedFrames < whilePinned.walFrames)
        // A TRUNCATE asked for anyway gives up after its short busy timeout, and commits go on.
        let started = ContinuousClock.now
        let forced = try store.checkpoint(.truncate)
        #expect(forced.busy && ContinuousClock.now - started < .seconds(2))
        _ = try await temporary.auditLog.append(
            AuditRecord(timestampMs: 1, gatewayID: "gw-1", lockID: "lock-1", granted: false, reason: .malformed))

        release.signal()
        try await Task.sleep(for: .milliseconds(100))
        let unpinned = try store.maintainWAL()
        #expect(unpinned.mode == .restart && !unpinned.busy)
        // The next commit writes the WAL from its start, over the blocks the file keeps, and trims
        // what is beyond `walKeptBytes`.
        _ = try await temporary.auditLog.append(
            AuditRecord(timestampMs: 2, gatewayID: "gw-1", lockID: "lock-1", granted: false, reason: .malformed))
        let after = try store.checkpoint(.passive)
        #expect(after.walFrames > 0 && after.walFrames < 10, "\(after.walFrames) frames after the restart")
        #expect(store.file.walBytes() > 0 && store.file.walBytes() <= AccessStore.walKeptBytes)
    }

    /// Without a reader in the way, a WAL that holds more than `walRestartBytes` is restarted, and
    /// one that holds less is left to grow: a restart every second would cost the writer a wait.
    @Test func theWALRestartsOnlyPastItsRestartSize() async throws {
        let temporary = try TemporaryStore(backgroundCheckpoints: true)
        defer { temporary.remove() }
        _ = try await temporary.auditLog.append(
            AuditRecord(timestampMs: 1, gatewayID: "gw-1", lockID: "lock-1", granted: false, reason: .malformed))
        #expect(try temporary.store.maintainWAL().mode == .passive)
        // One fill, with no reader in the way: the passive checkpoint at its end copies
        // everything, and SQLite's writer would restart such a WAL by itself at the next commit.
        let frames = try await fill(temporary, count: 12_000)
        let content = UInt64(frames) * UInt64(temporary.store.walFrameBytes)
        #expect(content > AccessStore.walRestartBytes, "\(frames) frames")
        #expect(try temporary.store.maintainWAL().mode == .restart)
    }
}
