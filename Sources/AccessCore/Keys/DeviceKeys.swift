import AccessProtocol
import Crypto

/// Per-device keys derived from the site's secret `siteKey` (contract, "Keys"): a lock or pole is
/// provisioned with its own key only, so a device that is taken apart reveals nothing about the
/// others.
// SymmetricKey is immutable once made; swift-crypto 3 just does not declare it Sendable.
public struct DeviceKeys: @unchecked Sendable {
    private let siteKey: PreparedHMAC
    public let siteID: String

    public init(siteKey: SymmetricKey, siteID: String) {
        self.siteKey = PreparedHMAC(key: siteKey)
        self.siteID = siteID
    }

    /// `HMAC-SHA256(siteKey, "lock-key\n" + siteId + "\n" + lockId)`
    public func lockKey(lockID: String) -> SymmetricKey {
        derive(label: "lock-key", deviceID: lockID)
    }

    /// `HMAC-SHA256(siteKey, "pole-key\n" + siteId + "\n" + poleId)`
    public func poleKey(poleID: String) -> SymmetricKey {
        derive(label: "pole-key", deviceID: poleID)
    }

    private func derive(label: String, deviceID: String) -> SymmetricKey {
        let message = Array("\(label)\n\(siteID)\n\(deviceID)".utf8)
        return SymmetricKey(data: Array(siteKey.code(for: message)))
    }
}
