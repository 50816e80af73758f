import AccessProtocol
import Crypto

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

        guard let header = Header(headerBytes) else { return .failure(.badHeader) }
        guard header.alg == "EdDSA" else { return .failure(.disallowedAlgorithm(header.alg)) }
        // RFC 7515 §4.1.11: extensions we do not understand must not be ignored.
        guard !header.hasCrit, header.typ.map({ $0.uppercased() == "JWT" }) ?? true else {
            return .failure(.badHeader)
        }
        guard let kid = header.kid, let issuerKey = keys[kid] else { return .failure(.unknownKid) }

        let signingInput = token.utf8.prefix(parts[0].count + 1 + parts[1].count)
        guard signature.count == 64, issuerKey.publicKey.isValidSignature(signature, for: Array(signingInput)) else {
            return .failure(.badSignature)
        }

        guard let claims = Claims(payloadBytes),
            let iss = claims.iss, let sub = claims.sub, let rid = claims.rid, let spc = claims.spc,
            let jti = claims.jti, let iat = claims.iat, let nbf = claims.nbf, let exp = claims.exp
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

    /// The protected header's members that matter, read as `JSONDecoder` read them into
    /// optionals (`null` is absent; a member of the wrong type fails the whole header), and
    /// stricter in two ways: a repeated member, or bytes that are not UTF-8, fail it too.
    struct Header: Equatable {
        var alg: String
        var kid: String?
        var typ: String?
        /// `crit` present and not `null`: whatever it holds, the token is refused.
        var hasCrit: Bool

        static let members: Set<String> = ["alg", "kid", "typ", "crit"]

        init?(_ bytes: [UInt8]) {
            guard let members = TokenMembers(bytes, kept: Self.members),
                let alg = members.string("alg") ?? nil, let kid = members.string("kid"),
                let typ = members.string("typ")
            else { return nil }
            self.alg = alg
            self.kid = kid
            self.typ = typ
            hasCrit = members.values["crit"].map { $0 != .null } ?? false
        }
    }

    /// The claims, each nil when absent or `null`; a claim of the wrong type fails them all (a
    /// time beyond `Double`'s range counts as one, so every time that is read is finite).
    struct Claims: Equatable {
        var iss: String?
        var sub: String?
        var rid: String?
        var spc: String?
        var jti: String?
        var iat: Double?
        var nbf: Double?
        var exp: Double?

        static let members: Set<String> = ["iss", "sub", "rid", "spc", "jti", "iat", "nbf", "exp"]

        init?(_ bytes: [UInt8]) {
            guard let members = TokenMembers(bytes, kept: Self.members),
                let iss = members.string("iss"), let sub = members.string("sub"), let rid = members.string("rid"),
                let spc = members.string("spc"), let jti = members.string("jti"), let iat = members.number("iat"),
                let nbf = members.number("nbf"), let exp = members.number("exp")
            else { return nil }
            (self.iss, self.sub, self.rid, self.spc, self.jti) = (iss, sub, rid, spc, jti)
            (self.iat, self.nbf, self.exp) = (iat, nbf, exp)
        }
    }

    /// The members of a header or claims object that the verifier keeps, by name; the others are
    /// validated and skipped. nil when the bytes are not UTF-8, not one JSON object, or repeat a
    /// kept member.
    struct TokenMembers {
        var values: [String: JSONReader.Scalar] = [:]

        init?(_ bytes: [UInt8], kept: Set<String>) {
            guard String(validating: bytes, as: UTF8.self) != nil else { return nil }
            var values: [String: JSONReader.Scalar] = [:]
            do {
                try JSONReader.readObject(bytes) { reader, key throws(JSONReader.Problem) in
                    guard kept.contains(key) else { return try reader.skipValue(depth: 1) }
                    guard values[key] == nil else { throw .duplicateKey(key) }
                    values[key] = try reader.value(depth: 1)
                }
            } catch {
                return nil
            }
            self.values = values
        }

        /// `.some(nil)` when absent or `null`, nil when of another type.
        func string(_ key: String) -> String?? {
            switch values[key] {
            case nil, .null: return .some(nil)
            case .string(let text): return .some(text)
            default: return nil
            }
        }

        /// `.some(nil)` when absent or `null`, nil when not a number or beyond `Double`'s range.
        func number(_ key: String) -> Double?? {
            switch values[key] {
            case nil, .null: return .some(nil)
            case .integer(let value): return .some(Double(value))
            case .number(let value) where value.isFinite: return .some(value)
            default: return nil
            }
        }
    }
}
