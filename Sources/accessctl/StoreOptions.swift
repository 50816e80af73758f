import AccessCore
import AccessStore
import ArgumentParser
import Foundation

/// Where the store is and the settings that its PIN index depends on.
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("database"), help: "Path of the gateway's SQLite store.")
    var databasePath: String

    @Option(name: .customLong("site-id"), help: "The site's id (the store refuses another site's).")
    var siteID: String

    @Option(name: .customLong("pin-key-file"), help: "File holding the pinKey (64 hex digits, mode 0600).")
    var pinKeyFile: String

    @Option(name: .customLong("pin-digits"), help: "Keypad PIN length, 4 to 12.")
    var pinDigits: Int = 8

    @Option(help: "SQLite synchronous level: full or normal.")
    var synchronous: String = "full"

    func validate() throws {
        guard Identifier.isValid(siteID) else {
            throw ValidationError("--site-id \"\(siteID)\" breaks the identifier rule [A-Za-z0-9][A-Za-z0-9._-]{0,63}")
        }
        guard (4...12).contains(pinDigits) else { throw ValidationError("--pin-digits must be 4 to 12") }
        guard StoreConfiguration.Synchronous(rawValue: synchronous.uppercased()) != nil else {
            throw ValidationError("--synchronous must be full or normal")
        }
    }

    func open(create: Bool = false) throws -> AccessStore {
        guard create || FileManager.default.fileExists(atPath: databasePath) else {
            throw Failure(
                "no database at \(databasePath): check --database (the gateway creates it on its first start)")
        }
        let pinKey = try SecretKeyFile.load(path: pinKeyFile)
        let pins = KeypadPIN(pinKey: pinKey, siteID: siteID, digits: pinDigits)
        let level = StoreConfiguration.Synchronous(rawValue: synchronous.uppercased()) ?? .full
        let store = try AccessStore(
            configuration: StoreConfiguration(path: databasePath, synchronous: level),
            pinIndex: PINIndex(pins: pins, pinKey: pinKey))
        try store.bindSite(siteID)
        return store
    }
}
