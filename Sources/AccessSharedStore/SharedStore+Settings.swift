import AccessConfiguration
import Foundation

extension SharedStore.Configuration {
    /// The connection of `database.kind: postgres`: the password read from its credential file,
    /// TLS required when a CA is given. The gateway and `accessctl` both build it here, so both
    /// reach the database the same way; a problem names its configuration key.
    public init(_ settings: SharedDatabaseSettings) throws {
        var password: String?
        if let file = settings.passwordFile {
            do {
                password = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .newlines)
            } catch {
                throw ConfigurationError("database.passwordFile", "cannot read \(file): \(error.localizedDescription)")
            }
        }
        if let caFile = settings.caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            throw ConfigurationError("database.caFile", "cannot read \(caFile)")
        }
        self.init(
            host: settings.host, port: settings.port, username: settings.user, password: password,
            database: settings.name, tls: settings.caFile.map(SharedStore.requireTLS(caFile:)) ?? .disable)
    }
}
