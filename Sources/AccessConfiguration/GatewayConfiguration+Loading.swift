import AccessCore
import AccessProtocol
import AccessStore
import Configuration
import Foundation
import SystemPackage

extension GatewayConfiguration {
    /// Reads the YAML file, with environment variables overriding it: `ACCESS_GATEWAY_` and the
    /// key in upper case with `_` for `.` and between camelCase words (`broker.port` →
    /// `ACCESS_GATEWAY_BROKER_PORT`, `keys.siteKeyFile` → `ACCESS_GATEWAY_KEYS_SITE_KEY_FILE`).
    /// Every value is checked; the first bad or missing one is reported with its key.
    public static func load(path: String, environment: [String: String]) async throws -> GatewayConfiguration {
        let file: FileProvider<YAMLSnapshot>
        do {
            file = try await FileProvider<YAMLSnapshot>(filePath: FilePath(path))
        } catch {
            throw ConfigurationError("--config", "cannot read \(path) as YAML: \(error)")
        }
        // A misspelt key would be ignored and its default used: refuse it, naming it.
        let unknown: [String]
        do {
            unknown = try unknownKeys(inYAML: String(contentsOfFile: path, encoding: .utf8))
        } catch {
            throw ConfigurationError("--config", "cannot read \(path) as YAML: \(error)")
        }
        if let first = unknown.first {
            throw ConfigurationError(first, "unknown key (misspelt? config/gateway.example.yaml lists every key)")
        }
        let env = KeyMappingProvider(upstream: EnvironmentVariablesProvider(environmentVariables: environment)) {
            $0.prepending(["access", "gateway"])
        }
        let reader = ConfigReader(providers: [env, file])
        var configuration = try parse(Values(reader: reader))
        // Relative key, password and certificate files are systemd credentials (LoadCredential=)
        // when the service manager provides them, else files next to the configuration.
        let base =
            environment["CREDENTIALS_DIRECTORY"]
            ?? URL(fileURLWithPath: path).deletingLastPathComponent().path
        func resolved(_ path: String) -> String { path.hasPrefix("/") ? path : base + "/" + path }
        configuration.siteKeyFile = resolved(configuration.siteKeyFile)
        configuration.pinKeyFile = resolved(configuration.pinKeyFile)
        configuration.httpTokenFile = configuration.httpTokenFile.map(resolved)
        configuration.broker.passwordFile = configuration.broker.passwordFile.map(resolved)
        configuration.broker.caFile = configuration.broker.caFile.map(resolved)
        configuration.broker.certificateFile = configuration.broker.certificateFile.map(resolved)
        configuration.broker.privateKeyFile = configuration.broker.privateKeyFile.map(resolved)
        configuration.broker.bookingsCertificateFile = configuration.broker.bookingsCertificateFile.map(resolved)
        configuration.broker.bookingsPrivateKeyFile = configuration.broker.bookingsPrivateKeyFile.map(resolved)
        if var shared = configuration.sharedDatabase {
            shared.passwordFile = shared.passwordFile.map(resolved)
            shared.caFile = shared.caFile.map(resolved)
            configuration.sharedDatabase = shared
        }
        return configuration
    }

    /// Typed access with errors that name the key.
    struct Values {
        let reader: ConfigReader

        func string(_ key: String) -> String? {
            guard let text = reader.string(forKey: ConfigKey(key)), !text.isEmpty else { return nil }
            return text
        }

        func required(_ key: String) throws -> String {
            guard let text = string(key) else { throw ConfigurationError(key, "missing") }
            return text
        }

        func int(_ key: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
            guard let text = string(key) else { return value }
            guard let number = Int(text), range.contains(number) else {
                throw ConfigurationError(
                    key, "\"\(text)\" is not an integer in \(range.lowerBound)...\(range.upperBound)")
            }
            return number
        }

        func bool(_ key: String, default value: Bool) throws -> Bool {
            guard let text = string(key) else { return value }
            switch text.lowercased() {
            case "true", "yes", "on": return true
            case "false", "no", "off": return false
            default: throw ConfigurationError(key, "\"\(text)\" is not true or false")
            }
        }

        func double(_ key: String, default value: Double, in range: ClosedRange<Double>) throws -> Double {
            guard let text = string(key) else { return value }
            guard let number = Double(text), number.isFinite, range.contains(number) else {
                throw ConfigurationError(
                    key, "\"\(text)\" is not a number in \(range.lowerBound)...\(range.upperBound)")
            }
            return number
        }

        func list(_ key: String) -> [String] {
            if let array = reader.stringArray(forKey: ConfigKey(key)) {
                return array.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            }
            return string(key).map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
                ?? []
        }

        func identifier(_ key: String, default value: String? = nil) throws -> String {
            guard let text = string(key) ?? value else { throw ConfigurationError(key, "missing") }
            guard Identifier.isValid(text) else {
                throw ConfigurationError(key, "\"\(text)\" breaks the identifier rule [A-Za-z0-9][A-Za-z0-9._-]{0,63}")
            }
            return text
        }
    }

    static func parse(_ values: Values) throws -> GatewayConfiguration {
        let gatewayID = try values.identifier("gateway.id")
        let siteID = try values.identifier("site.id")
        let prefix = values.string("site.topicPrefix") ?? "access"
        guard !prefix.contains(where: { "+#".contains($0) }), !prefix.hasPrefix("$"), !prefix.hasSuffix("/") else {
            throw ConfigurationError(
                "site.topicPrefix", "\"\(prefix)\" must not contain + or #, start with $ or end with /")
        }

        // Inventory: `site.spaces` ids, `site.locks` as lock@space, `site.poles` as pole@space+space.
        let spaceIDs = values.list("site.spaces")
        // No inventory here: it comes from the store (`accessctl site import`).
        let inventoryFromStore =
            spaceIDs.isEmpty && values.list("site.locks").isEmpty && values.list("site.poles").isEmpty
        var polesOfSpace: [String: [String]] = [:]
        var poles: [Pole] = []
        for entry in values.list("site.poles") {
            let parts = entry.split(separator: "@", maxSplits: 1).map(String.init)
            poles.append(Pole(id: parts[0]))
            if parts.count == 2 {
                for space in parts[1].split(separator: "+") {
                    polesOfSpace[String(space), default: []].append(parts[0])
                }
            }
        }
        var locks: [Lock] = []
        for entry in values.list("site.locks") {
            do { locks.append(try LockEntry.parse(entry)) } catch {
                throw ConfigurationError("site.locks", error.description)
            }
        }
        for space in polesOfSpace.keys where !spaceIDs.contains(space) {
            throw ConfigurationError("site.poles", "a pole is linked to space \(space), which is not in site.spaces")
        }
        let site: Site
        do {
            site = try Site(
                id: siteID, spaces: spaceIDs.map { Space(id: $0, poleIDs: polesOfSpace[$0] ?? []) }, locks: locks,
                poles: poles)
        } catch {
            throw ConfigurationError("site", error.description)
        }

        // Issuers: "kid issuer base64-public-key".
        var issuers: [IssuerKey] = []
        for entry in values.list("issuers") {
            let parts = entry.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard parts.count == 3 else {
                throw ConfigurationError("issuers", "\"\(entry.prefix(40))\" must be \"kid issuer publicKeyBase64\"")
            }
            guard Identifier.isValid(parts[0]) else {
                throw ConfigurationError("issuers", "kid \"\(parts[0])\" breaks the identifier rule")
            }
            do {
                issuers.append(try IssuerKey(kid: parts[0], issuer: parts[1], publicKeyBase64: parts[2]))
            } catch {
                throw ConfigurationError("issuers", error.description)
            }
        }

        // Nothing is trusted that the operator did not configure: without an issuer no token
        // could ever verify, and a gateway that starts that way hides the mistake.
        guard !issuers.isEmpty else {
            throw ConfigurationError(
                "issuers",
                "no booking issuer is trusted: add your booking backend's \"kid issuer publicKey\" (see "
                    + "config/gateway.example.yaml)")
        }

        let clientID = values.string("broker.clientId") ?? "access-gateway-\(gatewayID)"
        var broker = Broker(
            clientID: clientID, bookingsClientID: values.string("broker.bookings.clientId") ?? "\(clientID)-bookings")
        broker.bookingsCertificateFile = values.string("broker.bookings.certFile")
        broker.bookingsSessionExpiryS = try values.int(
            "broker.bookings.sessionExpiryS", default: broker.bookingsSessionExpiryS, in: 0...2_592_000)
        broker.bookingsPrivateKeyFile = values.string("broker.bookings.keyFile")
        if (broker.bookingsCertificateFile == nil) != (broker.bookingsPrivateKeyFile == nil) {
            throw ConfigurationError(
                "broker.bookings.keyFile", "a client certificate needs its key, and a key its certificate")
        }
        guard broker.bookingsClientID != clientID else {
            throw ConfigurationError("broker.bookings.clientId", "must differ from broker.clientId")
        }
        broker.host = values.string("broker.host") ?? broker.host
        broker.port = try values.int("broker.port", default: broker.port, in: 1...65535)
        broker.username = values.string("broker.username")
        broker.passwordFile = values.string("broker.passwordFile")
        broker.caFile = values.string("broker.tls.caFile")
        broker.certificateFile = values.string("broker.tls.certFile")
        broker.privateKeyFile = values.string("broker.tls.keyFile")
        broker.keepAliveS = try values.int("broker.keepAliveS", default: 30, in: 5...3600)
        if let group = values.string("broker.sharedGroup") {
            guard Identifier.isValid(group) else {
                throw ConfigurationError("broker.sharedGroup", "\"\(group)\" breaks the identifier rule")
            }
            broker.sharedGroup = group
        }
        if (broker.certificateFile == nil) != (broker.privateKeyFile == nil) {
            throw ConfigurationError(
                "broker.tls.keyFile", "a client certificate needs its key, and a key its certificate")
        }

        var policy = AccessPolicy()
        policy.tokenLeewayS = Int64(try values.int("policy.tokenLeewayS", default: 60, in: 0...3600))
        policy.pinDigits = try values.int("policy.pinDigits", default: 8, in: 4...12)
        policy.failureWindowS = Int64(try values.int("policy.failureWindowS", default: 300, in: 1...86_400))
        policy.maxFailures = try values.int("policy.maxFailures", default: 5, in: 1...1000)
        policy.lockoutS = Int64(try values.int("policy.lockoutS", default: 60, in: 1...3600))
        policy.maxRequestsPerS = try values.double("policy.maxRequestsPerS", default: 10, in: 0.01...1_000_000)
        policy.unlockForS = try values.int("policy.unlockForS", default: 5, in: 1...600)
        policy.commandTTLMs = Int64(try values.int("policy.commandTTLS", default: 5, in: 1...300)) * 1000
        policy.maxQueueMs = Int64(try values.int("policy.maxQueueMs", default: 2000, in: 100...60_000))
        policy.maxRequestAgeS = Int64(try values.int("policy.maxRequestAgeS", default: 30, in: 1...3600))

        let bookingDefaults = BookingDefaults(
            graceBeforeMin: Int64(try values.int("policy.defaultGraceBeforeMin", default: 0, in: 0...10080)),
            graceAfterMin: Int64(try values.int("policy.defaultGraceAfterMin", default: 0, in: 0...10080)))

        var alarms = AlarmPolicy()
        alarms.maxOpenS = Int64(try values.int("alarms.maxOpenS", default: 120, in: 1...86_400))
        alarms.offlineAfterS = Int64(try values.int("alarms.offlineAfterS", default: 180, in: 1...86_400))
        alarms.lowBatteryPercent = try values.int("alarms.lowBatteryPercent", default: 20, in: 0...100)
        alarms.overstayAfterS = Int64(try values.int("alarms.overstayAfterMin", default: 15, in: 1...1440)) * 60
        alarms.darknessLux = try values.double("lighting.darknessLux", default: 10, in: 0...100_000)
        alarms.welcomeLevel = try values.int("lighting.welcomeLevel", default: 100, in: 0...100)
        alarms.welcomeForS = try values.int("lighting.welcomeForS", default: 300, in: 1...86_400)

        let synchronousText = values.string("database.synchronous") ?? "full"
        guard let synchronous = StoreConfiguration.Synchronous(rawValue: synchronousText.uppercased()) else {
            throw ConfigurationError("database.synchronous", "\"\(synchronousText)\" must be full or normal")
        }

        var httpListen: (host: String, port: Int)?
        let listen = values.string("http.listen") ?? "127.0.0.1:9464"
        if listen != "off" {
            guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
                (0...65535).contains(port), colon > listen.startIndex
            else { throw ConfigurationError("http.listen", "\"\(listen)\" must be host:port or off") }
            httpListen = (String(listen[..<colon]), port)
        }
        let logLevel = values.string("log.level") ?? "info"
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(logLevel) else {
            throw ConfigurationError("log.level", "\"\(logLevel)\" is not a log level (trace ... critical)")
        }

        let minimumFreeMB = try values.int("database.minFreeMB", default: 64, in: 0...1_048_576)
        var configuration = GatewayConfiguration(
            gatewayID: gatewayID, site: site, topicPrefix: prefix, issuers: issuers,
            siteKeyFile: try values.required("keys.siteKeyFile"), pinKeyFile: try values.required("keys.pinKeyFile"),
            broker: broker, databasePath: try values.required("database.path"), synchronous: synchronous,
            inventoryFromStore: inventoryFromStore, policy: policy, bookingDefaults: bookingDefaults, alarms: alarms,
            httpListen: httpListen, logLevel: logLevel
        )
        configuration.minimumFreeBytes = UInt64(minimumFreeMB) * 1_048_576
        configuration.httpTokenFile = values.string("http.tokenFile")
        configuration.homeAssistant.enabled = try values.bool("homeAssistant.enabled", default: false)
        configuration.homeAssistant.remoteOpen = try values.bool("homeAssistant.remoteOpen", default: false)
        if let prefix = values.string("homeAssistant.prefix") {
            guard !prefix.isEmpty, !prefix.contains("+"), !prefix.contains("#"), !prefix.hasPrefix("/"),
                !prefix.hasSuffix("/")
            else {
                throw ConfigurationError(
                    "homeAssistant.prefix", "\"\(prefix)\" must be a topic prefix without wildcards")
            }
            configuration.homeAssistant.prefix = prefix
        }
        if let base = values.string("profiles.zigbeeBaseTopic") {
            guard !base.isEmpty, !base.contains(where: { "+#".contains($0) }), !base.hasPrefix("$"),
                !base.hasPrefix("/"),
                !base.hasSuffix("/")
            else {
                throw ConfigurationError("profiles.zigbeeBaseTopic", "\"\(base)\" must be a topic without wildcards")
            }
            configuration.profiles.zigbeeBaseTopic = base
        }
        configuration.profiles.pinPushAheadMin = try values.int("profiles.pinPushAheadMin", default: 60, in: 0...10_080)
        switch values.string("database.kind") ?? "sqlite" {
        case "sqlite":
            for key in ["database.url", "database.passwordFile", "database.caFile"] where values.string(key) != nil {
                throw ConfigurationError(key, "only with database.kind: postgres")
            }
        case "postgres":
            guard let text = values.string("database.url") else {
                throw ConfigurationError(
                    "database.url", "missing: database.kind postgres needs postgres://user@host:port/name")
            }
            switch SharedDatabaseSettings.parse(url: text) {
            case .failure(let problem): throw ConfigurationError("database.url", problem.problem)
            case .success(let (host, port, user, name)):
                configuration.sharedDatabase = SharedDatabaseSettings(
                    host: host, port: port, user: user, name: name,
                    passwordFile: values.string("database.passwordFile"),
                    caFile: values.string("database.caFile"))
            }
        case let other:
            throw ConfigurationError("database.kind", "\"\(other)\" must be sqlite or postgres")
        }
        return configuration
    }
}
