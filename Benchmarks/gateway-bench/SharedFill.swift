import AccessCore
import AccessProtocol
import AccessSharedStore
import AccessStore
import Logging
import MQTTTesting

/// Fills the bench's PostgreSQL with the reservations of its SQLite store (`--postgres`).
enum SharedFill {
    static func fill(site: BenchSite, port: Int) async throws {
        let pins = KeypadPIN(pinKey: site.pinKey, siteID: BenchSite.siteID, digits: 8)
        let index = PINIndex(pins: pins, pinKey: site.pinKey)
        let local = try AccessStore(
            configuration: StoreConfiguration(path: site.databasePath, synchronous: .full), pinIndex: index)
        let shared = SharedStore(
            configuration: .init(
                host: "127.0.0.1", port: port, username: PostgresServer.user, database: PostgresServer.database),
            pinIndex: index, logger: Logger(label: "bench-postgres"), operationTimeout: .seconds(60))
        let pool = Task { await shared.run() }
        defer { pool.cancel() }
        try await shared.migrate()
        var cursor: String?
        var count = 0
        repeat {
            let page = try local.bookingMessages(after: cursor, limit: 1000)
            for message in page.messages {
                _ = try await shared.apply(message, nowMs: 0)
                count += 1
            }
            cursor = page.next
        } while cursor != nil
        print("  \(count) booking messages in PostgreSQL")
    }
}
