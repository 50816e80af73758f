import GRDB

/// The schema, as numbered migrations. A migration that has shipped is never edited; changes
/// come as new migrations.
enum StoreMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-inventory-reservations-audit") { db in
            try db.execute(
                sql: """
                    CREATE TABLE store_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;

                    CREATE TABLE spaces (id TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID;
                    CREATE TABLE locks (
                        id TEXT PRIMARY KEY NOT NULL,
                        space_id TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE
                    ) WITHOUT ROWID;
                    CREATE TABLE poles (id TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID;
                    CREATE TABLE space_poles (
                        space_id TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
                        pole_id TEXT NOT NULL REFERENCES poles(id) ON DELETE CASCADE,
                        position INTEGER NOT NULL,
                        PRIMARY KEY (space_id, pole_id)
                    ) WITHOUT ROWID;

                    -- Reservations are never deleted by sync: a cancel is a status and a version.
                    CREATE TABLE reservations (
                        id TEXT PRIMARY KEY NOT NULL,
                        space_id TEXT NOT NULL,
                        holder TEXT NOT NULL,
                        start_ms INTEGER NOT NULL,
                        end_ms INTEGER NOT NULL CHECK (end_ms > start_ms),
                        status TEXT NOT NULL CHECK (status IN ('confirmed', 'cancelled')),
                        version INTEGER NOT NULL CHECK (version >= 0),
                        grace_before_s INTEGER NOT NULL DEFAULT 0 CHECK (grace_before_s >= 0),
                        grace_after_s INTEGER NOT NULL DEFAULT 0 CHECK (grace_after_s >= 0),
                        single_use INTEGER NOT NULL DEFAULT 0 CHECK (single_use IN (0, 1)),
                        spent INTEGER NOT NULL DEFAULT 0 CHECK (spent IN (0, 1)),
                        pin_digest BLOB NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX reservations_by_space_pin ON reservations (space_id, pin_digest);
                    CREATE INDEX reservations_by_holder ON reservations (holder);
                    CREATE INDEX reservations_by_space_start ON reservations (space_id, start_ms);

                    -- A cancel that arrived before any upsert of its id, kept at its version.
                    CREATE TABLE reservation_tombstones (
                        id TEXT PRIMARY KEY NOT NULL,
                        version INTEGER NOT NULL
                    ) WITHOUT ROWID;

                    CREATE TABLE revoked_tokens (
                        jti TEXT PRIMARY KEY NOT NULL,
                        revoked_at_ms INTEGER NOT NULL
                    ) WITHOUT ROWID;

                    -- Tokens that opened a door (for support and for auditing single use).
                    CREATE TABLE used_tokens (
                        jti TEXT PRIMARY KEY NOT NULL,
                        reservation_id TEXT NOT NULL,
                        first_used_ms INTEGER NOT NULL,
                        audit_seq INTEGER NOT NULL
                    ) WITHOUT ROWID;

                    CREATE TABLE device_state (
                        kind TEXT NOT NULL CHECK (kind IN ('lock', 'pole')),
                        id TEXT NOT NULL,
                        online INTEGER,
                        battery INTEGER,
                        firmware TEXT,
                        rssi INTEGER,
                        door_state TEXT,
                        lock_state TEXT,
                        last_seen_ms INTEGER,
                        detail TEXT,
                        PRIMARY KEY (kind, id)
                    ) WITHOUT ROWID;

                    CREATE TABLE audit_log (
                        seq INTEGER PRIMARY KEY NOT NULL CHECK (seq >= 1),
                        ts INTEGER NOT NULL,
                        gateway_id TEXT NOT NULL,
                        lock_id TEXT NOT NULL,
                        request_id TEXT,
                        credential_type TEXT,
                        reservation_id TEXT,
                        holder TEXT,
                        jti TEXT,
                        granted INTEGER NOT NULL CHECK (granted IN (0, 1)),
                        reason TEXT NOT NULL,
                        command_id TEXT,
                        operator TEXT,
                        note TEXT,
                        hash TEXT NOT NULL
                    );
                    CREATE INDEX audit_by_lock_ts ON audit_log (lock_id, ts);
                    CREATE INDEX audit_by_reservation ON audit_log (reservation_id) WHERE reservation_id IS NOT NULL;
                    CREATE INDEX audit_by_holder ON audit_log (holder) WHERE holder IS NOT NULL;
                    """)
        }
        migrator.registerMigration("v2-booking-feed") { db in
            // (v1.1) The booking feed's position: `applied_seq`, up to which every message has
            // been applied, and the seqs applied above it while a gap stays open. Both change
            // in the transaction of the message they cover.
            try db.execute(
                sql: """
                    CREATE TABLE booking_feed (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        applied_seq INTEGER NOT NULL CHECK (applied_seq >= 0),
                        last_message_ms INTEGER
                    );
                    INSERT INTO booking_feed (id, applied_seq) VALUES (1, 0);
                    CREATE TABLE booking_feed_ahead (seq INTEGER PRIMARY KEY NOT NULL);
                    """)
        }
        migrator.registerMigration("v3-audit-count") { db in
            // (v1.1) `rate_limited` and `busy` decisions are audited per lock and minute, one
            // record with how many there were.
            try db.execute(sql: "ALTER TABLE audit_log ADD COLUMN count INTEGER CHECK (count IS NULL OR count > 0)")
        }
        migrator.registerMigration("v4-pin-lockouts") { db in
            // A lock's wrong-PIN count and lockout, written with the audit record of the PIN that
            // changed them, so that a restart does not reset a brute-forcer's count.
            try db.execute(
                sql: """
                    CREATE TABLE pin_lockouts (
                        lock_id TEXT PRIMARY KEY NOT NULL,
                        failure_times_ms TEXT NOT NULL,
                        locked_until_ms INTEGER,
                        last_lockout_s INTEGER,
                        last_lockout_ended_ms INTEGER
                    )
                    """)
        }
        migrator.registerMigration("v5-alarms") { db in
            // Each alarm from raise to end (the device's report, or an operator's acknowledgement
            // with a note), and acknowledgements accessctl asks for until the gateway applies them.
            try db.execute(
                sql: """
                    CREATE TABLE alarms (
                        alarm_id TEXT PRIMARY KEY NOT NULL,
                        type TEXT NOT NULL,
                        lock_id TEXT,
                        pole_id TEXT,
                        space_id TEXT,
                        raised_ms INTEGER NOT NULL,
                        detail TEXT NOT NULL,
                        cleared_ms INTEGER,
                        cleared_by TEXT,
                        operator TEXT,
                        note TEXT
                    );
                    CREATE INDEX alarms_open ON alarms (raised_ms) WHERE cleared_ms IS NULL;
                    CREATE INDEX alarms_cleared ON alarms (cleared_ms) WHERE cleared_ms IS NOT NULL;
                    CREATE TABLE alarm_acks (
                        alarm_id TEXT PRIMARY KEY NOT NULL,
                        operator TEXT NOT NULL,
                        note TEXT NOT NULL,
                        requested_ms INTEGER NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v6-device-profiles") { db in
            // Device profiles (docs/devices.md): each lock's dialect and device; cards registered
            // to holders, by keyed digest only; a Zigbee lock's PIN slots as the gateway filled
            // them; and audit records of slot writes and keypad opens (`event`).
            try db.execute(
                sql: """
                    ALTER TABLE locks ADD COLUMN profile TEXT NOT NULL DEFAULT 'contract';
                    ALTER TABLE locks ADD COLUMN device TEXT;
                    ALTER TABLE locks ADD COLUMN pin_slot_first INTEGER;
                    ALTER TABLE locks ADD COLUMN pin_slot_last INTEGER;
                    ALTER TABLE audit_log ADD COLUMN event TEXT;
                    CREATE TABLE holder_cards (
                        digest BLOB PRIMARY KEY NOT NULL,
                        holder TEXT NOT NULL,
                        label TEXT,
                        added_ms INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX holder_cards_by_holder ON holder_cards (holder);
                    CREATE TABLE pin_slots (
                        lock_id TEXT NOT NULL,
                        slot INTEGER NOT NULL,
                        reservation_id TEXT,
                        state TEXT NOT NULL CHECK (state IN ('pushing', 'held', 'clearing', 'free')),
                        attempts INTEGER NOT NULL DEFAULT 0,
                        sent_ms INTEGER,
                        next_try_ms INTEGER NOT NULL DEFAULT 0,
                        PRIMARY KEY (lock_id, slot)
                    ) WITHOUT ROWID;
                    """)
        }
        return migrator
    }
}
