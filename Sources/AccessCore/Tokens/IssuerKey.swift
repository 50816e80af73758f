import AccessProtocol
import Crypto

/// A booking issuer's Ed25519 public key, the `kid` that names it and the `iss` it must carry.
/// The gateway never holds an issuer's private key.
public struct IssuerKey: @unchecked Sendable {
    // Curve25519 public keys are immutable values; swift-crypto 3 does not mark them Sendable.
    public let kid: String
    public let issuer: String
    public let publicKey: Curve25519.Signing.PublicKey

    public init(kid: String, issuer: String, publicKey: Curve25519.Signing.PublicKey) {
        self.kid = kid
        self.issuer = issuer
        self.publicKey = publicKey
    }

    /// From the 32 raw bytes of the public key, base64url (as in a JWK's `x`) or standard base64.
    public init(kid: String, issuer: String, publicKeyBase64: String) throws(IssuerKeyError) {
        // Accept standard base64 too: map its alphabet onto base64url and drop padding.
        var text = String(publicKeyBase64.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
        while text.hasSuffix("=") { text.removeLast() }
        guard let bytes = Base64URL.decode(text), bytes.count == 32 else { throw .notAnEd25519PublicKey(kid: kid) }
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: bytes) else {
            throw .notAnEd25519PublicKey(kid: kid)
        }
        if let source = PublishedKeys.source(ofEd25519PublicKey: bytes) {
            throw .publishedKey(kid: kid, source: source)
        }
        self.init(kid: kid, issuer: issuer, publicKey: key)
    }
}

public enum IssuerKeyError: Error, Hashable, CustomStringConvertible {
    case notAnEd25519PublicKey(kid: String)
    /// Its private key is printed in a public document: anybody could sign tokens with it.
    case publishedKey(kid: String, source: String)

    public var description: String {
        switch self {
        case .notAnEd25519PublicKey(let kid): "issuer key \(kid): not 32 bytes of Ed25519 public key in base64"
        case .publishedKey(let kid, let source):
            "issuer key \(kid) is a published example key (\(source)): its private key is public, so anybody "
                + "could sign tokens with it; configure your booking backend's own key"
        }
    }
}
