import AccessCore
import AccessProtocol
import AccessTesting
import Crypto
import Testing

@Suite struct TokenVerifierTests {
    let site = TestSite()
    var minter: TokenMinter { site.minter }
    var verifier: TokenVerifier { TokenVerifier(issuers: [minter.issuerKey]) }
    var claims: JSONValue {
        minter.claims(
            holder: "u-1", reservationID: "b-1", spaceID: "room-1", notBeforeS: 1_000, expiresS: 2_000, jti: "t-1")
    }
    var header: JSONValue {
        .object([("alg", .string("EdDSA")), ("typ", .string("JWT")), ("kid", .string("kid-1"))])
    }

    @Test func aWellFormedTokenVerifies() throws {
        let verified = try verifier.verify(minter.sign(header: header, claims: claims)).get()
        #expect(verified.holder == "u-1" && verified.reservationID == "b-1" && verified.spaceID == "room-1")
        #expect(verified.jti == "t-1" && verified.notBeforeS == 1_000 && verified.expiresS == 2_000)
        #expect(verified.issuer == "https://booking.example")
    }

    @Test func algNoneIsRejected() {
        let token =
            TokenMinter.encode(.object([("alg", .string("none")), ("kid", .string("kid-1"))])) + "."
            + TokenMinter.encode(claims) + "."
        #expect(rejection(token) == .notCompactJWS)
        let withJunkSignature = String(token.dropLast()) + ".AAAA"
        #expect(rejection(withJunkSignature) == .disallowedAlgorithm("none"))
    }

    @Test func hs256SignedWithThePublicKeyBytesIsRejected() {
        #expect(rejection(minter.hs256WithPublicKey(claims: claims)) == .disallowedAlgorithm("HS256"))
    }

    @Test func aTamperedPayloadFailsTheSignature() throws {
        let token = minter.sign(header: header, claims: claims)
        let parts = token.split(separator: ".").map(String.init)
        let forged = minter.claims(
            holder: "u-2", reservationID: "b-1", spaceID: "room-1", notBeforeS: 1_000, expiresS: 2_000, jti: "t-1")
        #expect(rejection(parts[0] + "." + TokenMinter.encode(forged) + "." + parts[2]) == .badSignature)
        // A flipped bit of the signature.
        var signature = try #require(Base64URL.decode(parts[2]))
        signature[10] ^= 1
        #expect(rejection(parts[0] + "." + parts[1] + "." + Base64URL.encode(signature)) == .badSignature)
    }

    @Test func anUnknownKidOrAnotherIssuersKeyIsRejected() {
        let unknownKid = JSONValue.object([("alg", .string("EdDSA")), ("kid", .string("kid-9"))])
        #expect(rejection(minter.sign(header: unknownKid, claims: claims)) == .unknownKid)
        let noKid = JSONValue.object([("alg", .string("EdDSA"))])
        #expect(rejection(minter.sign(header: noKid, claims: claims)) == .unknownKid)
        let impostor = TokenMinter(kid: "kid-1", issuer: "https://booking.example")
        #expect(rejection(impostor.sign(header: header, claims: claims)) == .badSignature)
    }

    @Test func theIssuerMustBeTheOneConfiguredForTheKid() {
        let other = minter.claims(
            holder: "u-1", reservationID: "b-1", spaceID: "room-1", notBeforeS: 1_000, expiresS: 2_000, jti: "t-1",
            issuer: "https://evil.example")
        #expect(rejection(minter.sign(header: header, claims: other)) == .issuerMismatch)
    }

    @Test(arguments: ["iss", "sub", "rid", "spc", "iat", "nbf", "exp", "jti"])
    func everyClaimIsRequired(missing: String) {
        guard case .object(let fields) = claims else { return }
        let stripped = JSONValue.object(fields.filter { $0.0 != missing })
        #expect(rejection(minter.sign(header: header, claims: stripped)) == .badClaims)
    }

    @Test(arguments: ["sub", "rid", "spc", "jti"])
    func claimsMustFollowTheIdentifierRule(claim: String) {
        guard case .object(let fields) = claims else { return }
        let bad = JSONValue.object(fields.map { $0.0 == claim ? ($0.0, .string("../x")) : $0 })
        #expect(rejection(minter.sign(header: header, claims: bad)) == .claimBreaksIdentifierRule(claim))
    }

    @Test func criticalHeaderExtensionsAndOtherTypesAreRejected() {
        let crit = JSONValue.object([
            ("alg", .string("EdDSA")), ("kid", .string("kid-1")), ("crit", .string("b64")),
        ])
        #expect(rejection(minter.sign(header: crit, claims: claims)) == .badHeader)
        let typ = JSONValue.object([("alg", .string("EdDSA")), ("kid", .string("kid-1")), ("typ", .string("JWE"))])
        #expect(rejection(minter.sign(header: typ, claims: claims)) == .badHeader)
    }

    /// Correctly signed, but a member named twice: two readers could take different ones (the
    /// first `alg` or the last, the first `sub` or the last), so the gateway takes neither.
    @Test func aMemberNamedTwiceIsRefusedThoughSigned() throws {
        let twoAlgs = JSONValue.object([
            ("alg", .string("EdDSA")), ("kid", .string("kid-1")), ("alg", .string("none")),
        ])
        let token = minter.sign(header: twoAlgs, claims: claims)
        let headerText = try #require(Base64URL.decode(token.split(separator: ".")[0]))
        #expect(String(decoding: headerText, as: UTF8.self).components(separatedBy: "\"alg\"").count == 3)
        #expect(rejection(token) == .badHeader)
        guard case .object(let fields) = claims else { return }
        let twoSubs = JSONValue.object(fields + [("sub", .string("u-2"))])
        #expect(rejection(minter.sign(header: header, claims: twoSubs)) == .badClaims)
        // The same claims without the second `sub` verify: the refusal is the repetition.
        #expect(rejection(minter.sign(header: header, claims: .object(fields))) == nil)
    }

    /// A time the JSON writes beyond `Double`'s range would read as infinite: never valid, never expired.
    @Test func aTimeBeyondDoublesRangeIsRefused() throws {
        func signed(exp: String) throws -> String {
            let claims =
                #"{"iss":"https://booking.example","sub":"u-1","rid":"b-1","spc":"room-1","jti":"t-1","iat":1000,"nbf":1000,"exp":"#
                + exp + "}"
            let input = TokenMinter.encode(header) + "." + Base64URL.encode(Array(claims.utf8))
            let signature = try minter.privateKey.signature(for: Array(input.utf8))
            return input + "." + Base64URL.encode(Array(signature))
        }
        #expect(rejection(try signed(exp: "2000")) == nil)
        #expect(rejection(try signed(exp: "1e400")) == .badClaims)
        #expect(rejection(try signed(exp: "-1e400")) == .badClaims)
    }

    @Test(arguments: ["", "a.b", "a.b.c.d", "...", "e30.e30.", "!!.e30.AAAA", "e30=.e30.AAAA"])
    func nonCompactSerializationsAreRejected(token: String) {
        #expect(rejection(token) == .notCompactJWS || rejection(token) == .badHeader)
    }

    func rejection(_ token: String) -> TokenVerifier.Rejection? {
        if case .failure(let rejection) = verifier.verify(token) { return rejection }
        return nil
    }
}
