import AccessCore
import AccessProtocol
import Crypto

/// What the engine decides with: replaced whole on reload (SIGHUP), never mutated in place.
public struct AccessEngineConfiguration: @unchecked Sendable {
    // Holds SymmetricKeys, which are immutable; swift-crypto 3 just does not declare them Sendable.
    public var gatewayID: String
    public var site: Site
    public var policy: AccessPolicy
    public var verifier: TokenVerifier
    public var pins: KeypadPIN
    public let deviceKeys: DeviceKeys
    /// Card numbers' keyed digests (device profiles with a card reader).
    public var cards: CardIndex
    /// Lock keys set up for signing, for this configuration's site key only.
    let lockKeys = LockKeyCache()

    public init(
        gatewayID: String, site: Site, policy: AccessPolicy, issuers: [IssuerKey], siteKey: SymmetricKey,
        pinKey: SymmetricKey
    ) {
        self.gatewayID = gatewayID
        self.site = site
        self.policy = policy
        self.verifier = TokenVerifier(issuers: issuers)
        self.pins = KeypadPIN(pinKey: pinKey, siteID: site.id, digits: policy.pinDigits)
        self.deviceKeys = DeviceKeys(siteKey: siteKey, siteID: site.id)
        self.cards = CardIndex(siteKey: siteKey, siteID: site.id)
    }

    /// The key of a lock in the inventory, set up for signing: derived when a command needs it
    /// (one HMAC, ~1 µs) and kept for the locks in use (`LockKeyCache`), rather than held for
    /// every lock: 100k keys held would cost more memory than the rest of the inventory.
    func lockKey(_ lockID: String) -> PreparedHMAC? {
        guard site.locks[lockID] != nil else { return nil }
        return lockKeys.key(lockID) { PreparedHMAC(key: deviceKeys.lockKey(lockID: lockID)) }
    }
}
