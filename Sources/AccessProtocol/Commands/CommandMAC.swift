import Crypto

/// MACs of the commands the gateway sends to devices (contract, "Command"): the canonical text of
/// a command, HMAC-SHA256 with the device's derived key, base64url without padding.
public enum CommandMAC {
    /// `"v1\n" + siteId + "\n" + lockId + "\n" + commandId + "\n" + action + "\n" + unlockForS + "\n" + issuedAt + "\n" + notAfter`
    public static func lockCanonical(
        siteID: String, lockID: String, commandID: String, action: String, unlockForS: Int, issuedAt: Int64,
        notAfter: Int64
    ) -> String {
        "v1\n\(siteID)\n\(lockID)\n\(commandID)\n\(action)\n\(unlockForS)\n\(issuedAt)\n\(notAfter)"
    }

    /// `"v1\n" + siteId + "\n" + poleId + "\n" + commandId + "\n" + action + "\n" + level + "\n" + forS + "\n" + issuedAt + "\n" + notAfter`
    public static func poleCanonical(
        siteID: String, poleID: String, commandID: String, action: String, level: Int, forS: Int, issuedAt: Int64,
        notAfter: Int64
    ) -> String {
        "v1\n\(siteID)\n\(poleID)\n\(commandID)\n\(action)\n\(level)\n\(forS)\n\(issuedAt)\n\(notAfter)"
    }

    public static func mac(canonical: String, key: SymmetricKey) -> String {
        Base64URL.encode(Array(HMAC<SHA256>.authenticationCode(for: Array(canonical.utf8), using: key)))
    }

    /// The same MAC with the key already set up (`PreparedHMAC`).
    public static func mac(canonical: String, key: PreparedHMAC) -> String {
        Base64URL.encode(Array(key.code(for: Array(canonical.utf8))))
    }

    /// Checks a received MAC in constant time (what a lock does before executing a command).
    public static func verify(mac: String, canonical: String, key: SymmetricKey) -> Bool {
        guard let bytes = Base64URL.decode(mac) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(bytes, authenticating: Array(canonical.utf8), using: key)
    }
}
