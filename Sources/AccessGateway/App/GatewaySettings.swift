import AccessConfiguration
import AccessCore
import AccessEngine
import AccessProtocol
import Crypto
import Synchronization

/// The configuration in force and what is derived from it (keys), swapped whole on SIGHUP. The
/// router reads the inventory from here on the network thread; the services read the rest.
public final class GatewaySettings: Sendable {
    public struct Keys: @unchecked Sendable {
        // SymmetricKey is immutable; swift-crypto 3 just does not declare it Sendable.
        public var siteKey: SymmetricKey
        public var pinKey: SymmetricKey

        public init(siteKey: SymmetricKey, pinKey: SymmetricKey) {
            self.siteKey = siteKey
            self.pinKey = pinKey
        }
    }

    struct Snapshot: @unchecked Sendable {
        // Holds SymmetricKeys (immutable).
        var configuration: GatewayConfiguration
        var keys: Keys
        var poleKeys: [String: SymmetricKey]
        var operatorKey: SymmetricKey
        /// Keys the status page's short holder tags: a holder is recognisable across decisions
        /// without the page showing who it is.
        var holderTagKey: PreparedHMAC
        /// Dialect devices' topics, by the lock they belong to (device profiles).
        var profileRoutes: ProfileRoutes

        init(configuration: GatewayConfiguration, keys: Keys) {
            self.configuration = configuration
            self.keys = keys
            self.profileRoutes = ProfileRoutes(
                site: configuration.site, topics: ProfileTopics(zigbeeBase: configuration.profiles.zigbeeBaseTopic))
            let derive = DeviceKeys(siteKey: keys.siteKey, siteID: configuration.site.id)
            var poleKeys: [String: SymmetricKey] = [:]
            for poleID in configuration.site.poles.keys { poleKeys[poleID] = derive.poleKey(poleID: poleID) }
            self.poleKeys = poleKeys
            self.operatorKey = OperatorUnlock.operatorKey(siteKey: keys.siteKey, siteID: configuration.site.id)
            self.holderTagKey = PreparedHMAC(
                key: SymmetricKey(
                    data: HMAC<SHA256>.authenticationCode(
                        for: Array("status-page-holder\n\(configuration.site.id)".utf8), using: keys.siteKey)))
        }
    }

    private let snapshot: Mutex<Snapshot>

    public init(configuration: GatewayConfiguration, keys: Keys) {
        snapshot = Mutex(Snapshot(configuration: configuration, keys: keys))
    }

    public var configuration: GatewayConfiguration { snapshot.withLock { $0.configuration } }
    /// The policy alone: a decision reads it without copying the whole configuration.
    var policy: AccessPolicy { snapshot.withLock { $0.configuration.policy } }
    var current: Snapshot { snapshot.withLock { $0 } }
    var site: Site { snapshot.withLock { $0.configuration.site } }
    /// One lock of the site: a grant's command reads it without copying the whole site.
    func lock(_ lockID: String) -> Lock? { snapshot.withLock { $0.configuration.site.locks[lockID] } }
    var profileRoutes: ProfileRoutes { snapshot.withLock { $0.profileRoutes } }
    var profileTopics: ProfileTopics { snapshot.withLock { $0.profileRoutes.topics } }

    /// The lock a dialect topic belongs to (the router, on the network thread).
    func profileRoute(_ topic: String) -> ProfileRoutes.Route? {
        snapshot.withLock { $0.profileRoutes.route(topic) }
    }

    func replace(configuration: GatewayConfiguration, keys: Keys) {
        let fresh = Snapshot(configuration: configuration, keys: keys)
        snapshot.withLock { $0 = fresh }
    }

    /// What the engine is configured with.
    public static func engineConfiguration(_ configuration: GatewayConfiguration, keys: Keys)
        -> AccessEngineConfiguration
    {
        AccessEngineConfiguration(
            gatewayID: configuration.gatewayID, site: configuration.site, policy: configuration.policy,
            issuers: configuration.issuers, siteKey: keys.siteKey, pinKey: keys.pinKey)
    }

    /// The first 8 hex digits of HMAC(holderTagKey, holder).
    func holderTag(_ holder: String) -> String {
        let key = snapshot.withLock { $0.holderTagKey }
        return AuditChain.hexString(key.code(for: Array(holder.utf8)).prefix(4))
    }
}
