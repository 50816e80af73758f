import AccessCore
import AccessProtocol
import Logging
import PostgresNIO

/// The store several gateways of one site share, on PostgreSQL (issue 19): the reservations and
/// the booking feed's position, single-use spends, PIN lockouts, operator request ids and the
/// audit log (one hash chain per gateway). Each guarantee that must hold across gateways says
/// which row lock or statement gives it, where it is made (`SharedStore+Decisions.swift`).
///
/// The client's connection pool must run for the store's lifetime: `run()` in a task (a Service).
/// Every operation is one transaction at READ COMMITTED, the server's default: the guarantees
/// come from row locks and single-statement conditions, not from SERIALIZABLE retries, so no
/// request is ever retried into a second grant.
public final class SharedStore: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var username: String
        public var password: String?
        public var database: String
        /// `.disable`: plain TCP, for a database on the gateway's own host or a private network
        /// only; `caFile(_:)` requires TLS with the server's certificate and name verified.
        public var tls: PostgresClient.Configuration.TLS

        public init(
            host: String, port: Int = 5432, username: String, password: String? = nil, database: String,
            tls: PostgresClient.Configuration.TLS = .disable
        ) {
            self.host = host
            self.port = port
            self.username = username
            self.password = password
            self.database = database
            self.tls = tls
        }
    }

    /// TLS required, the server's certificate checked against `caFile` and its name against the host.
    public static func requireTLS(caFile: String) -> PostgresClient.Configuration.TLS {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(caFile)
        tls.certificateVerification = .fullVerification
        return .require(tls)
    }

    let client: PostgresClient
    let logger: Logger
    let pinIndex: PINIndex
    /// How long one operation may take before it fails `unavailable` (the request is denied).
    let operationTimeout: Duration

    public init(
        configuration: Configuration, pinIndex: PINIndex, logger: Logger, operationTimeout: Duration = .seconds(2)
    ) {
        self.operationTimeout = operationTimeout
        var options = PostgresClient.Configuration.Options()
        options.maximumConnections = 16
        options.connectTimeout = .seconds(3)
        let postgres = PostgresClient.Configuration(
            host: configuration.host, port: configuration.port, username: configuration.username,
            password: configuration.password, database: configuration.database, tls: configuration.tls)
        var withOptions = postgres
        withOptions.options = options
        client = PostgresClient(configuration: withOptions, backgroundLogger: logger)
        self.logger = logger
        self.pinIndex = pinIndex
    }

    /// Runs the connection pool until the task is cancelled.
    public func run() async {
        await client.run()
    }

    /// Brings the schema to the newest version, once per database (an advisory lock keeps two
    /// gateways starting together from migrating at the same time).
    public func migrate() async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(8675309)", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                logger: logger)
            let rows = try await connection.query("SELECT name FROM schema_migrations", logger: logger)
            var applied: Set<String> = []
            for try await name in rows.decode(String.self) { applied.insert(name) }
            for (name, statements) in SharedStoreMigrations.all where !applied.contains(name) {
                for statement in statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO schema_migrations (name) VALUES (\(name))", logger: logger)
            }
        }
    }
}
