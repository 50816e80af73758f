import AccessConfiguration
import AccessCore
import AccessProtocol
import AccessStore
import ArgumentParser
import Foundation

/// Where the store is and the settings its PIN index depends on: from the gateway's
/// configuration (`--config`, or /etc/access-gateway/gateway.yaml when it exists), with any
/// explicit option winning.
struct StoreOptions: ParsableArguments {
    static let defaultConfig = "/etc/access-gateway/gateway.yaml"

    @Option(help: "The gateway's configuration file (database path, site id, pinKey file, PIN length).")
    var config: String?

    @Option(name: .customLong("database"), help: "Path of the gateway's SQLite store.")
    var databasePath: String?

    @Option(name: .customLong("site-id"), help: "The site's id (the store refuses another site's).")
    var siteID: String?

    @Option(name: .customLong("pin-key-file"), help: "File holding the pinKey (64 hex digits, mode 0600).")
    var pinKeyFile: String?

    @Option(
        name: .customLong("site-key-file"),
        help: "File holding the site key (64 hex digits, mode 0600): cards' digests are keyed with it.")
    var siteKeyFile: String?

    @Option(name: .customLong("pin-digits"), help: "Keypad PIN length, 4 to 12 (default 8).")
    var pinDigits: Int?

    @Option(help: "SQLite synchronous level: full or normal.")
    var synchronous: String = "full"

    func validate() throws {
        if let siteID, !Identifier.isValid(siteID) {
            throw ValidationError("--site-id \"\(siteID)\" breaks the identifier rule [A-Za-z0-9][A-Za-z0-9._-]{0,63}")
        }
        if let pinDigits, !(4...12).contains(pinDigits) { throw ValidationError("--pin-digits must be 4 to 12") }
        guard StoreConfiguration.Synchronous(rawValue: synchronous.uppercased()) != nil else {
            throw ValidationError("--synchronous must be full or normal")
        }
    }

    struct Resolved {
        /// The gateway's whole configuration, when one was read (its broker, for instance).
        var configuration: GatewayConfiguration?
        var databasePath: String
        var siteID: String
        var pinKeyFile: String
        var pinDigits: Int
        var siteKeyFile: String?
    }

    func resolve() async throws -> Resolved {
        var path = config
        if path == nil, databasePath == nil || siteID == nil || pinKeyFile == nil,
            FileManager.default.fileExists(atPath: Self.defaultConfig)
        {
            path = Self.defaultConfig
        }
        var loaded: GatewayConfiguration?
        if let path {
            do {
                loaded = try await GatewayConfiguration.load(
                    path: path, environment: ProcessInfo.processInfo.environment)
            } catch {
                throw Failure("\(path): \(error)")
            }
        }
        guard let database = databasePath ?? loaded?.databasePath, let site = siteID ?? loaded?.site.id,
            let pinKey = pinKeyFile ?? loaded?.pinKeyFile
        else {
            throw ValidationError("give --config FILE, or --database, --site-id and --pin-key-file")
        }
        return Resolved(
            configuration: loaded, databasePath: database, siteID: site, pinKeyFile: pinKey,
            pinDigits: pinDigits ?? loaded?.policy.pinDigits ?? 8, siteKeyFile: siteKeyFile ?? loaded?.siteKeyFile)
    }

    func open(create: Bool = false) async throws -> AccessStore {
        let resolved = try await resolve()
        guard create || FileManager.default.fileExists(atPath: resolved.databasePath) else {
            throw Failure(
                "no database at \(resolved.databasePath): check --database (the gateway creates it on its first start)")
        }
        let pinKey = try SecretKeyFile.load(path: resolved.pinKeyFile)
        let pins = KeypadPIN(pinKey: pinKey, siteID: resolved.siteID, digits: resolved.pinDigits)
        let level = StoreConfiguration.Synchronous(rawValue: synchronous.uppercased()) ?? .full
        let store = try AccessStore(
            configuration: StoreConfiguration(path: resolved.databasePath, synchronous: level),
            pinIndex: PINIndex(pins: pins, pinKey: pinKey))
        try store.bindSite(resolved.siteID)
        return store
    }
}
