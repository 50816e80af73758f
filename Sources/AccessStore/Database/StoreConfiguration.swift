/// How the store opens its SQLite file.
public struct StoreConfiguration: Sendable, Hashable {
    /// SQLite's `synchronous` level in WAL mode. `full` syncs the WAL on every commit, so a
    /// committed grant survives a power cut; `normal` survives a crash of the process only.
    public enum Synchronous: String, Sendable, Hashable, CaseIterable {
        case normal = "NORMAL"
        case full = "FULL"
    }

    /// What opening does when there is no file at `path`.
    public enum Creation: Sendable, Hashable {
        /// Create it (tests, tools, a backup's copy).
        case createIfMissing
        /// The gateway's state directory: create it on a first start and leave a marker beside
        /// it; a directory with the marker and no store refuses to open (`StoreError.missing`),
        /// unless `initialize` (the operator's explicit `--init`).
        case stateDirectory(initialize: Bool)
    }

    public var path: String
    public var creation: Creation
    public var synchronous: Synchronous
    /// How long a writer waits for another process's lock (an operator's CLI) before failing.
    public var busyTimeoutS: Double
    /// Concurrent read connections for per-request lookups.
    public var maximumReaders: Int

    /// When true, no commit runs a WAL checkpoint (SQLite's automatic one makes the commit that
    /// crosses 1000 WAL pages copy them into the database file and sync it, tens of
    /// milliseconds); the owner calls `checkpointPassively()` off the request path instead.
    public var backgroundCheckpoints: Bool

    public init(
        path: String, synchronous: Synchronous = .full, busyTimeoutS: Double = 5, maximumReaders: Int = 4,
        backgroundCheckpoints: Bool = false, creation: Creation = .createIfMissing
    ) {
        self.path = path
        self.creation = creation
        self.synchronous = synchronous
        self.busyTimeoutS = busyTimeoutS
        self.maximumReaders = maximumReaders
        self.backgroundCheckpoints = backgroundCheckpoints
    }
}
