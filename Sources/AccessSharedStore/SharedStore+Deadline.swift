import PostgresNIO

/// Why an operation of the shared store did not complete.
public enum SharedStoreError: Error, Sendable, CustomStringConvertible {
    /// The database did not answer within the operation's deadline (away, restarting, or its pool
    /// still backing off): the caller denies `internal_error`, it never guesses.
    case unavailable(operation: String, afterMs: Int64)
    /// The gateway keeps decisions off the database for now (the reason says why).
    case blocked(String)

    public var description: String {
        switch self {
        case .unavailable(let operation, let afterMs):
            "the shared database did not answer \(operation) within \(afterMs) ms"
        case .blocked(let reason): "decisions are held off the shared database: \(reason)"
        }
    }
}

extension SharedStore {
    /// Runs `operation` for at most `operationTimeout`. The pool would otherwise queue a request
    /// while the database is away until its circuit breaker trips (a minute): a door would wait
    /// that long for a denial. A timed-out operation is cancelled (its lease or query with it).
    func bounded<Result: Sendable>(
        _ name: String, _ operation: @escaping @Sendable () async throws -> Result
    ) async throws -> Result {
        let limit = operationTimeout
        return try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let result = first else {
                let components = limit.components
                throw SharedStoreError.unavailable(
                    operation: name, afterMs: components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
                )
            }
            return result
        }
    }
}
