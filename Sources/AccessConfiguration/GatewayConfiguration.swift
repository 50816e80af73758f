import AccessCore
import AccessProtocol
import AccessStore
import Foundation

/// Everything the daemon is configured with (see `config/gateway.example.yaml` for every key and
/// its default). Secrets are never inline: the key files are read separately.
public struct GatewayConfiguration: Sendable {
    public struct Broker: Sendable, Hashable {
        public var host = "127.0.0.1"
        public var port = 1883
        public var clientID: String
        public var username: String?
        public var passwordFile: String?
        public var caFile: String?
        public var certificateFile: String?
        public var privateKeyFile: String?
        public var keepAliveS = 30
        /// When set, requests are taken through `$share/<group>/…` so several gateways share them.
        public var sharedGroup: String?
        /// The booking feed's own connection (so that no device flood can crowd it out): its client
        /// id, and the certificate that names it on a broker that takes client ids from
        /// certificates (`use_username_as_clientid`); the device connection's when not set.
        public var bookingsClientID: String
        public var bookingsCertificateFile: String?
        public var bookingsPrivateKeyFile: String?
        /// The booking connection's MQTT session lives this long on the broker while the gateway
        /// is away (a restart, a network break), so the messages of that time are queued for it;
        /// 0: a clean session each time.
        public var bookingsSessionExpiryS = 86_400
    }

    public var gatewayID: String
    public var site: Site
    public var topicPrefix: String
    public var issuers: [IssuerKey]
    public var siteKeyFile: String
    public var pinKeyFile: String
    public var broker: Broker
    public var databasePath: String
    public var synchronous: StoreConfiguration.Synchronous
    /// Below this much free space beside the store, `/healthz` fails and the watchdog stops
    /// (`database.minFreeMB`, default 64).
    public var minimumFreeBytes: UInt64 = 64 * 1_048_576
    /// The config lists no inventory: the store's (from `accessctl site import`) is used.
    public var inventoryFromStore: Bool
    public var policy: AccessPolicy
    /// Grace minutes for booking messages that leave them out.
    public var bookingDefaults: BookingDefaults
    public var alarms: AlarmPolicy
    /// `host:port` of the health and metrics endpoint; nil turns it off.
    public var httpListen: (host: String, port: Int)?
    /// A file holding the status page's access token (bearer, or basic auth's password). Without
    /// it the page is served to loopback clients only.
    public var httpTokenFile: String?
    /// Home Assistant MQTT discovery (off by default).
    public var homeAssistant = HomeAssistantSettings()
    /// Device profiles' settings (docs/devices.md).
    public var profiles = ProfileSettings()
    /// `database.kind: postgres`: the database several gateways of the site share (docs/scale-out.md);
    /// nil for the embedded SQLite store alone.
    public var sharedDatabase: SharedDatabaseSettings?
    public var logLevel: String
}

/// `database.url` (`postgres://user@host:port/name`), the password from a credential file, and
/// the CA that makes the connection TLS with the server's name verified.
public struct SharedDatabaseSettings: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var user: String
    public var name: String
    public var passwordFile: String?
    public var caFile: String?

    public init(host: String, port: Int, user: String, name: String, passwordFile: String?, caFile: String?) {
        self.host = host
        self.port = port
        self.user = user
        self.name = name
        self.passwordFile = passwordFile
        self.caFile = caFile
    }

    /// Parses `postgres://user@host[:port]/name`; a password in the URL is refused (it would sit
    /// in the configuration and in process listings): it comes from `database.passwordFile`.
    public struct URLProblem: Error, Sendable {
        public var problem: String
    }

    public static func parse(url text: String) -> Result<
        (host: String, port: Int, user: String, name: String), URLProblem
    > {
        guard let url = URL(string: text), url.scheme == "postgres" || url.scheme == "postgresql" else {
            return .failure(URLProblem(problem: "\"\(text)\" is not postgres://user@host[:port]/name"))
        }
        guard url.password == nil else {
            return .failure(URLProblem(problem: "holds a password: put it in database.passwordFile"))
        }
        guard let host = url.host, !host.isEmpty, let user = url.user, !user.isEmpty else {
            return .failure(
                URLProblem(problem: "\"\(text)\" needs a user and a host (postgres://user@host[:port]/name)"))
        }
        let name = String(url.path.dropFirst())
        guard !name.isEmpty, !name.contains("/") else {
            return .failure(URLProblem(problem: "\"\(text)\" names no database"))
        }
        let port = url.port ?? 5432
        guard (1...65535).contains(port) else {
            return .failure(URLProblem(problem: "port \(port) is not in 1...65535"))
        }
        return .success((host, port, user, name))
    }
}

public struct ProfileSettings: Sendable, Hashable {
    /// Zigbee2MQTT's `mqtt.base_topic`.
    public var zigbeeBaseTopic = "zigbee2mqtt"
    /// PIN push: a reservation's PIN goes into its Zigbee lock this long before its window opens.
    public var pinPushAheadMin = 60

    public init() {}
}

public struct HomeAssistantSettings: Sendable, Hashable {
    public var enabled = false
    /// Discovery prefix (Home Assistant's default).
    public var prefix = "homeassistant"
    /// Offer a lock entity that opens the door: it goes through the authenticated operator path.
    public var remoteOpen = false

    public init() {}
}

extension GatewayConfiguration {
    /// Takes the inventory from the store when the configuration lists none; otherwise saves the
    /// configuration's inventory to the store. Refuses a store without one.
    public mutating func settleInventory(with store: AccessStore) throws {
        if inventoryFromStore {
            guard let stored = try store.loadSite(), stored.id == site.id, !stored.spaces.isEmpty else {
                throw ConfigurationError(
                    "site.spaces",
                    "missing: list the inventory in the configuration or load it with `accessctl site import`")
            }
            site = stored
        } else {
            try store.saveSite(site)
        }
    }
}
