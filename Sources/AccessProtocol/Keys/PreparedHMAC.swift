import Crypto

/// HMAC-SHA256 with its key set up once. Making an `HMAC` pads the key and hashes both pads (two
/// allocations and two SHA-256 blocks); this keeps that state and each code starts from a copy of
/// it (swift-crypto's hashers are copy-on-write), so a code costs only its message. On a
/// decision's path (a PIN's index digest, the PIN derivation that confirms it, a holder's tag, a
/// command's MAC) the key setup was most of the HMAC work.
// `HMAC` is a value whose hasher contexts are copied before they are written, and this one is
// never written: sharing it between threads only reads it. swift-crypto does not declare it Sendable.
public struct PreparedHMAC: @unchecked Sendable {
    private let prepared: HMAC<SHA256>

    public init(key: SymmetricKey) {
        prepared = HMAC<SHA256>(key: key)
    }

    /// `HMAC-SHA256(key, message)`, the same bytes `HMAC<SHA256>.authenticationCode` gives.
    public func code(for message: [UInt8]) -> HashedAuthenticationCode<SHA256> {
        var authenticator = prepared
        authenticator.update(data: message)
        return authenticator.finalize()
    }
}
