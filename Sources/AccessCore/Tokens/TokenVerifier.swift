import AccessProtocol
import Crypto

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Verifies booking tokens: JWS compact serialization, `alg` exactly `EdDSA`, a known `kid`, a
/// valid Ed25519 signature, every required claim present and well-formed, and `iss` equal to the
/// issuer configured for the `kid`. Time claims are checked later, in the contract's order.
///
/// Built on swift-crypto alone rather than jwt-kit: jwt-kit's verification is asynchronous (an
/// actor-held key collection) while this module is synchronous and pure, it cannot bind a `kid`
/// to the `iss` it must carry, and it checks `exp`/`nbf` before the store is asked whether the
/// `jti` is revoked, which would reverse the contract's order of reasons.
public struct TokenVerifier: Sendable {
    private let keys: [String: IssuerKey]
    private let cache: VerifiedTokenCache?

    /// `cachedTokens` bounds the tokens remembered as verified (0: verify every time).
    public init(issuers: [IssuerKey], cachedTokens: Int = 8192) {
        var keys: [String: IssuerKey] = [:]
        for issuer in issuers { keys[issuer.kid] = issuer }
        self.keys = keys
        cache = cachedTokens > 0 ? VerifiedTokenCache(generationSize: (cachedTokens + 1) / 2) : nil
    }

    /// Tokens currently remembered as verified.
    public var cachedTokenCount: Int { cache?.count ?? 0 }

    public var kids: [String] { keys.keys.sorted() }

    /// Why a token is `invalid_credential`; for logs and tests, never shown to the lock.
    public enum Rejection: Error, Sendable, Hashable {
        case notCompactJWS
        case badHeader
        case disallowedAlgorithm(String)
        case unknownKid
        case badSignature
        case badClaims
        case claimBreaksIdentifierRule(String)
        case issuerMismatch
    }

    public func verify(_ token: String) -> Result<BookingTokenClaims, Rejection> {
        if let claims = cache?.claims(for: token) { return .success(claims) }
        let result = verifyUncached(token)
        if case .success(let claims) = result { cache?.remember(token, claims) }
        return result
    }

    private func verifyUncached(_ token: String) -> Result<BookingTokenClaims, Rejection> {
        let parts = token.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty, !parts[2].isEmpty,
            let headerBytes = Base64URL.decode(Substring(parts[0])),
            let payloadBytes = Base64URL.decode(Substring(parts[1])),
            let signature = Base64URL.decode(Substring(parts[2]))
        else { return .failure(.notCompactJWS) }

        guard let header = try? JSONDecoder().decode(Header.self, from: Data(headerBytes)) else {
            return .failure(.badHeader)
        }
        guard header.alg == "EdDSA" else { return .failure(.disallowedAlgorithm(header.alg)) }
        // RFC 7515 §4.1.11: extensions we do not understand must not be ignored.
        guard header.crit == nil, header.typ.map({ $0.uppercased() == "JWT" }) ?? true else {
            return .failure(.badHeader)
        }
        guard let kid = header.kid, let issuerKey = keys[kid] else { return .failure(.unknownKid) }

        let signingInput = token.utf8.prefix(parts[0].count + 1 + parts[1].count)
        guard signature.count == 64, issuerKey.publicKey.isValidSignature(signature, for: Array(signingInput)) else {
            return .failure(.badSignature)
        }

        guard let claims = try? JSONDecoder().decode(Claims.self, from: Data(payloadBytes)),
            let iss = claims.iss, let sub = claims.sub, let rid = claims.rid, let spc = claims.spc,
            let jti = claims.jti, let iat = claims.iat, let nbf = claims.nbf, let exp = claims.exp,
            iat.isFinite, nbf.isFinite, exp.isFinite
        else { return .failure(.badClaims) }
        for (name, value) in [("sub", sub), ("rid", rid), ("spc", spc), ("jti", jti)] where !Identifier.isValid(value) {
            return .failure(.claimBreaksIdentifierRule(name))
        }
        guard iss == issuerKey.issuer else { return .failure(.issuerMismatch) }
        return .success(
            BookingTokenClaims(
                issuer: iss, holder: sub, reservationID: rid, spaceID: spc, issuedAtS: iat, notBeforeS: nbf,
                expiresS: exp, jti: jti))
    }

    private struct Header: Decodable {
        var alg: String
        var kid: String?
        var typ: String?
        var crit: [String]?
    }

    private struct Claims: Decodable {
        var iss: String?
        var sub: String?
        var rid: String?
        var spc: String?
        var jti: String?
        var iat: Double?
        var nbf: Double?
        var exp: Double?
    }
}
