import AccessCore
import Crypto

/// What the engine decides with: replaced whole on reload (SIGHUP), never mutated in place.
public struct AccessEngineConfiguration: @unchecked Sendable {
    // Holds SymmetricKeys, which are immutable; swift-crypto 3 just does not declare them Sendable.
    public var gatewayID: String
    public var site: Site
    public var policy: AccessPolicy
    public var verifier: TokenVerifier
    public var pins: KeypadPIN
    public var deviceKeys: DeviceKeys
    /// Derived once per lock, not per command.
    let lockKeys: [String: SymmetricKey]

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
        var lockKeys: [String: SymmetricKey] = [:]
        for lockID in site.locks.keys { lockKeys[lockID] = deviceKeys.lockKey(lockID: lockID) }
        self.lockKeys = lockKeys
    }
}
