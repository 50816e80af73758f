import AccessStore
import AccessTesting
import GRDB
import Testing

/// A grant's audit record is on disk before its command goes out: with `synchronous: full` the
/// writer connection must really run with FULL (GRDB's DatabasePool sets NORMAL on its writer
/// when it turns WAL on, after the configuration's own pragmas).
@Suite struct DurabilityTests {
    @Test(arguments: [StoreConfiguration.Synchronous.full, .normal])
    func theWriterRunsWithTheConfiguredSynchronousLevel(_ level: StoreConfiguration.Synchronous) throws {
        let store = try TemporaryStore(synchronous: level)
        let onWriter = try store.store.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        #expect(onWriter == (level == .full ? 2 : 1))
    }
}
