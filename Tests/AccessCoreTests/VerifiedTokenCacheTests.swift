import AccessCore
import AccessProtocol
import AccessTesting
import Testing

/// The verified-token cache skips only the signature and claim checks for the exact same token.
@Suite struct VerifiedTokenCacheTests {
    let minter = TestSite().minter

    func token(jti: String) -> String {
        minter.sign(
            header: .object([("alg", .string("EdDSA")), ("typ", .string("JWT")), ("kid", .string("kid-1"))]),
            claims: minter.claims(
                holder: "u-1", reservationID: "b-1", spaceID: "room-1", notBeforeS: 1_000, expiresS: 2_000, jti: jti))
    }

    @Test func aVerifiedTokenIsRememberedAndARejectedOneNever() throws {
        let verifier = TokenVerifier(issuers: [minter.issuerKey])
        let good = token(jti: "t-1")
        #expect(try verifier.verify(good).get().jti == "t-1")
        #expect(verifier.cachedTokenCount == 1)
        #expect(try verifier.verify(good).get().jti == "t-1")
        #expect(verifier.cachedTokenCount == 1)

        // One character of the signature changed: a different text, so verified again, and refused.
        var tampered = Array(good)
        tampered[tampered.count - 2] = tampered[tampered.count - 2] == "A" ? "B" : "A"
        let rejected = verifier.verify(String(tampered))
        #expect(throws: TokenVerifier.Rejection.badSignature) { try rejected.get() }
        #expect(verifier.verify(String(tampered)) == rejected)
        #expect(verifier.cachedTokenCount == 1)
    }

    @Test func aNewVerifierAfterAReloadDoesNotTrustTheOldCache() throws {
        let old = TokenVerifier(issuers: [minter.issuerKey])
        let token = token(jti: "t-2")
        _ = try old.verify(token).get()
        // The issuer was removed from the configuration: the reloaded verifier refuses the token.
        let reloaded = TokenVerifier(issuers: [TokenMinter(kid: "kid-9", issuer: "https://other.example").issuerKey])
        #expect(throws: TokenVerifier.Rejection.unknownKid) { try reloaded.verify(token).get() }
    }

    @Test func theCacheIsBounded() throws {
        let verifier = TokenVerifier(issuers: [minter.issuerKey], cachedTokens: 10)
        for index in 0..<50 { _ = try verifier.verify(token(jti: "t-\(index)")).get() }
        #expect(verifier.cachedTokenCount <= 10)
        let uncached = TokenVerifier(issuers: [minter.issuerKey], cachedTokens: 0)
        _ = try uncached.verify(token(jti: "t-x")).get()
        #expect(uncached.cachedTokenCount == 0)
    }
}
