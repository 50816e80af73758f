import AccessCore
import AccessSharedStore
import AccessStore
import Foundation
import Logging
import PostgresNIO

/// The shared database of `database.kind: postgres` (docs/scale-out.md), for one command: what
/// every gateway decides with lives there (cards, lockouts, the audit chains), so the commands
/// that read or change it go there instead of to the gateway's local store.
enum SharedDatabase {
    /// Runs `body` against the shared database when the configuration names one; nil otherwise.
    /// The connection pool lives for the call; a database that does not answer within `timeout`
    /// ends the command with an error naming it.
    static func with<Result: Sendable>(
        _ resolved: StoreOptions.Resolved, timeout: Duration = .seconds(30),
        _ body: @escaping @Sendable (SharedStore) async throws -> Result
    ) async throws -> Result? {
        guard let settings = resolved.configuration?.sharedDatabase else { return nil }
        let where_ = "the shared database at \(settings.host):\(settings.port)/\(settings.name)"
        let pinKey = try SecretKeyFile.load(path: resolved.pinKeyFile)
        let pins = KeypadPIN(pinKey: pinKey, siteID: resolved.siteID, digits: resolved.pinDigits)
        var logger = Logger(label: "accessctl.shared-database")
        logger.logLevel = .critical
        let store = SharedStore(
            configuration: try SharedStore.Configuration(settings), pinIndex: PINIndex(pins: pins, pinKey: pinKey),
            logger: logger, operationTimeout: timeout)
        do {
            return try await withThrowingTaskGroup(of: Result?.self) { group in
                group.addTask {
                    await store.run()
                    return nil
                }
                group.addTask { try await body(store) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw Failure("\(where_) did not answer within \(timeout)")
                }
                defer { group.cancelAll() }
                while let next = try await group.next() {
                    if let result = next { return result }
                }
                throw Failure("\(where_): the connection pool ended")
            }
        } catch let error as PSQLError {
            // PSQLError's description hides the server's message; an operator needs it.
            throw Failure("\(where_): \(error.serverInfo?[.message] ?? String(describing: error.code))")
        }
    }
}
