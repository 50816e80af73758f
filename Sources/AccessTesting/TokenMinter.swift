import AccessCore
import AccessProtocol
import Crypto

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Mints booking tokens with an issuer's private key, including deliberately broken ones for
/// tests (any header, any claims, any signature).
public struct TokenMinter: @unchecked Sendable {
    // Curve25519 private keys are immutable; swift-crypto 3 just does not declare them Sendable.
    public let kid: String
    public let issuer: String
    public let privateKey: Curve25519.Signing.PrivateKey

    public init(kid: String, issuer: String, privateKey: Curve25519.Signing.PrivateKey = .init()) {
        self.kid = kid
        self.issuer = issuer
        self.privateKey = privateKey
    }

    public var issuerKey: IssuerKey {
        IssuerKey(kid: kid, issuer: issuer, publicKey: privateKey.publicKey)
    }

    /// A well-formed token for a reservation, valid from `nbf` to `exp` (seconds).
    public func token(
        holder: String, reservationID: String, spaceID: String, notBeforeS: Int64, expiresS: Int64,
        jti: String
    ) -> String {
        sign(
            header: BookingTokenSigner.header(kid: kid),
            claims: claims(
                holder: holder, reservationID: reservationID, spaceID: spaceID, notBeforeS: notBeforeS,
                expiresS: expiresS, jti: jti))
    }

    public func claims(
        holder: String, reservationID: String, spaceID: String, notBeforeS: Int64, expiresS: Int64, jti: String,
        issuer: String? = nil
    ) -> JSONValue {
        BookingTokenSigner.claims(
            issuer: issuer ?? self.issuer, holder: holder, reservationID: reservationID, spaceID: spaceID,
            issuedAtS: notBeforeS, notBeforeS: notBeforeS, expiresS: expiresS, jti: jti)
    }

    /// Signs any header and claims with this issuer's key (Ed25519 over `header.payload`).
    /// Should signing ever fail, the token carries no signature and every test using it is denied,
    /// so the failure shows instead of passing.
    public func sign(header: JSONValue, claims: JSONValue) -> String {
        (try? BookingTokenSigner.sign(header: header, claims: claims, privateKey: privateKey))
            ?? Self.encode(header) + "." + Self.encode(claims) + "."
    }

    /// An `HS256` token whose HMAC key is the issuer's public key bytes: the classic algorithm
    /// confusion attack.
    public func hs256WithPublicKey(claims: JSONValue) -> String {
        let header = JSONValue.object([("alg", .string("HS256")), ("typ", .string("JWT")), ("kid", .string(kid))])
        let signingInput = Self.encode(header) + "." + Self.encode(claims)
        let key = SymmetricKey(data: privateKey.publicKey.rawRepresentation)
        let mac = HMAC<SHA256>.authenticationCode(for: Array(signingInput.utf8), using: key)
        return signingInput + "." + Base64URL.encode(Array(mac))
    }

    public static func encode(_ value: JSONValue) -> String { BookingTokenSigner.encode(value) }
}
