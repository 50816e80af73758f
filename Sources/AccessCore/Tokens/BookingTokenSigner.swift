import AccessProtocol
import Crypto

/// Mints booking tokens as a booking backend does (JWS compact, EdDSA/Ed25519). The gateway
/// never holds an issuer's private key; this is for backends, tests, simulators and the CLI.
public enum BookingTokenSigner {
    /// `{"alg":"EdDSA","typ":"JWT","kid":kid}`.
    public static func header(kid: String) -> JSONValue {
        .object([("alg", .string("EdDSA")), ("typ", .string("JWT")), ("kid", .string(kid))])
    }

    /// The contract's claims for a reservation's holder.
    public static func claims(
        issuer: String, holder: String, reservationID: String, spaceID: String, issuedAtS: Int64, notBeforeS: Int64,
        expiresS: Int64, jti: String
    ) -> JSONValue {
        .object([
            ("iss", .string(issuer)), ("sub", .string(holder)), ("rid", .string(reservationID)),
            ("spc", .string(spaceID)), ("iat", .integer(issuedAtS)), ("nbf", .integer(notBeforeS)),
            ("exp", .integer(expiresS)), ("jti", .string(jti)),
        ])
    }

    /// `base64url(header) + "." + base64url(claims) + "." + base64url(Ed25519 signature)`.
    public static func sign(header: JSONValue, claims: JSONValue, privateKey: Curve25519.Signing.PrivateKey) throws
        -> String
    {
        let input = encode(header) + "." + encode(claims)
        let signature = try privateKey.signature(for: Array(input.utf8))
        return input + "." + Base64URL.encode(Array(signature))
    }

    public static func encode(_ value: JSONValue) -> String {
        Base64URL.encode(Array(CanonicalJSON.serialize(value).utf8))
    }
}
