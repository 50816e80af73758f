/// The shared schema, as numbered migrations (never edited once shipped). Times are Unix
/// milliseconds, as in the SQLite store.
enum SharedStoreMigrations {
    static let all: [(name: String, statements: [String])] = [
        (
            "v1-shared-state",
            [
                """
                CREATE TABLE reservations (
                    id TEXT PRIMARY KEY,
                    space_id TEXT NOT NULL,
                    holder TEXT NOT NULL,
                    start_ms BIGINT NOT NULL,
                    end_ms BIGINT NOT NULL CHECK (end_ms > start_ms),
                    status TEXT NOT NULL CHECK (status IN ('confirmed', 'cancelled')),
                    version BIGINT NOT NULL CHECK (version >= 0),
                    grace_before_s BIGINT NOT NULL DEFAULT 0,
                    grace_after_s BIGINT NOT NULL DEFAULT 0,
                    single_use BOOLEAN NOT NULL DEFAULT false,
                    spent BOOLEAN NOT NULL DEFAULT false,
                    pin_digest BYTEA NOT NULL
                )
                """,
                "CREATE INDEX reservations_by_space_pin ON reservations (space_id, pin_digest)",
                "CREATE INDEX reservations_by_holder ON reservations (holder)",
                "CREATE TABLE reservation_tombstones (id TEXT PRIMARY KEY, version BIGINT NOT NULL)",
                "CREATE TABLE revoked_tokens (jti TEXT PRIMARY KEY, revoked_at_ms BIGINT NOT NULL)",
                // The booking feed's position, per database: bookings are applied once however many
                // gateways receive them.
                "CREATE TABLE feed_position (id INT PRIMARY KEY CHECK (id = 1), applied_seq BIGINT NOT NULL)",
                "INSERT INTO feed_position (id, applied_seq) VALUES (1, 0)",
                "CREATE TABLE feed_applied_above (seq BIGINT PRIMARY KEY)",
                """
                CREATE TABLE pin_lockouts (
                    lock_id TEXT PRIMARY KEY,
                    failure_times_ms BIGINT[] NOT NULL DEFAULT '{}',
                    locked_until_ms BIGINT,
                    last_lockout_s BIGINT,
                    last_lockout_ended_ms BIGINT
                )
                """,
                """
                CREATE TABLE operator_requests (
                    request_id TEXT PRIMARY KEY,
                    gateway_id TEXT NOT NULL,
                    accepted_at_ms BIGINT NOT NULL
                )
                """,
                // Each gateway's own hash chain; the head row is what its appends lock.
                "CREATE TABLE audit_heads (gateway_id TEXT PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL)",
                """
                CREATE TABLE audit_log (
                    gateway_id TEXT NOT NULL,
                    seq BIGINT NOT NULL CHECK (seq >= 1),
                    ts BIGINT NOT NULL,
                    lock_id TEXT NOT NULL,
                    request_id TEXT,
                    credential_type TEXT,
                    reservation_id TEXT,
                    holder TEXT,
                    jti TEXT,
                    granted BOOLEAN NOT NULL,
                    reason TEXT NOT NULL,
                    command_id TEXT,
                    operator TEXT,
                    note TEXT,
                    count BIGINT,
                    event TEXT,
                    hash TEXT NOT NULL,
                    PRIMARY KEY (gateway_id, seq)
                )
                """,
                "CREATE INDEX audit_by_reservation ON audit_log (reservation_id) WHERE reservation_id IS NOT NULL",
            ]
        ),
        (
            "v2-holder-cards",
            [
                """
                CREATE TABLE holder_cards (
                    digest BYTEA PRIMARY KEY,
                    holder TEXT NOT NULL,
                    label TEXT,
                    added_ms BIGINT NOT NULL
                )
                """,
                "CREATE INDEX holder_cards_by_holder ON holder_cards (holder)",
            ]
        ),
    ]
}
