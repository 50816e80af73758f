import AccessProtocol
import Foundation
import Testing

@testable import AccessCore

/// A token's header and claims read by `JSONReader` against Foundation's `JSONDecoder` (what read
/// them before): whatever the decoder made of a header or claims object, the reader makes the
/// same, or refuses it for a reason it states: a repeated kept member, or bytes that are not JSON
/// at all (confirmed by Python's strict `json` module).
@Suite struct TokenJSONDifferentialTests {
    /// The former decoding, kept here as the reference.
    struct ReferenceHeader: Decodable, Equatable {
        var alg: String
        var kid: String?
        var typ: String?
        var crit: [String]?
    }

    struct ReferenceClaims: Decodable, Equatable {
        var iss: String?
        var sub: String?
        var rid: String?
        var spc: String?
        var jti: String?
        var iat: Double?
        var nbf: Double?
        var exp: Double?
    }

    typealias Verdict = JSONDifferential.Verdict

    static func decoded<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) -> T? {
        guard String(validating: bytes, as: UTF8.self) != nil else { return nil }
        return try? JSONDecoder().decode(type, from: Data(bytes))
    }

    /// A kept member named twice: refused by the reader, by design.
    static func repeatsKeptMember(_ bytes: [UInt8], kept: [String]) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self)
        return kept.contains { text.components(separatedBy: "\"\($0)\"").count > 2 }
    }

    static func checkHeader(_ bytes: [UInt8]) -> Verdict {
        let reference = decoded(ReferenceHeader.self, bytes)
        if let header = TokenVerifier.Header(bytes) {
            // A `crit` that is not an array of strings failed the decoder; the reader keeps only
            // that it is there, and the verifier refuses the token all the same.
            if header.hasCrit, reference == nil { return .agree }
            guard let reference else { return .disagree("reader accepted \(header), the decoder refused") }
            let same =
                header.alg == reference.alg && header.kid == reference.kid && header.typ == reference.typ
                && header.hasCrit == (reference.crit != nil)
            return same ? .agree : .disagree("reader \(header), decoder \(reference)")
        }
        guard reference != nil else { return .agree }
        return repeatsKeptMember(bytes, kept: ["alg", "kid", "typ", "crit"]) ? .agree : .readerStricter
    }

    static func checkClaims(_ bytes: [UInt8]) -> Verdict {
        let reference = decoded(ReferenceClaims.self, bytes)
        if let claims = TokenVerifier.Claims(bytes) {
            guard let reference else { return .disagree("reader accepted \(claims), the decoder refused") }
            let same =
                claims.iss == reference.iss && claims.sub == reference.sub && claims.rid == reference.rid
                && claims.spc == reference.spc && claims.jti == reference.jti && claims.iat == reference.iat
                && claims.nbf == reference.nbf && claims.exp == reference.exp
            return same ? .agree : .disagree("reader \(claims), decoder \(reference)")
        }
        guard reference != nil else { return .agree }
        let kept = ["iss", "sub", "rid", "spc", "jti", "iat", "nbf", "exp"]
        return repeatsKeptMember(bytes, kept: kept) ? .agree : .readerStricter
    }

    @Test(arguments: [
        #"{"alg":"EdDSA","typ":"JWT","kid":"kid-1"}"#,
        #" { "alg" : "EdDSA" , "kid" : "kid-1" } "#,
        #"{"alg":"EdDSA","kid":null,"typ":null,"crit":null}"#,
        #"{"alg":"EdDSA","kid":"kid-1","crit":["exp"]}"#,
        #"{"alg":"EdDSA","kid":"kid-1","crit":"exp"}"#,
        #"{"alg":"EdDSA","kid":"kid-1","crit":[1]}"#,
        #"{"alg":"EdDSA","kid":7}"#,
        #"{"alg":null,"kid":"kid-1"}"#,
        #"{"kid":"kid-1"}"#,
        #"{"alg":"Ed\u0044SA","kid":"kid\u002d1","x":{"y":[true,false,null,-1.5e-3]}}"#,
        #"{"alg":"EdDSA","alg":"none","kid":"kid-1"}"#,
        #"{"alg":"EdDSA","kid":"kid-1"} x"#,
        #"{"alg":"EdDSA","kid":"kid-1",}"#,
        #"["alg"]"#, #""#, #"null"#,
    ])
    func headerEdgeCasesAgree(header: String) throws {
        try JSONDifferential.expectAgreement([Array(header.utf8)], Self.checkHeader)
    }

    @Test(arguments: [
        #"{"iss":"https://booking.example","sub":"u-1","rid":"b-1","spc":"room-1","jti":"t-1","iat":900,"nbf":1000,"exp":2000}"#,
        #"{"iss":"i","sub":"u-1","rid":"b-1","spc":"s","jti":"t","iat":1.5,"nbf":1e3,"exp":2.5E+3}"#,
        #"{"iss":"i","sub":"u-1","rid":"b-1","spc":"s","jti":"t","iat":-0,"nbf":9007199254740993,"exp":1e400}"#,
        #"{"iss":"i","sub":"u-1","rid":"b-1","spc":"s","jti":"t","iat":0.1,"nbf":123456789012345678901234567890,"exp":-9223372036854775809}"#,
        #"{"iss":"i","sub":null,"rid":"b-1","spc":"s","jti":"t","iat":1,"nbf":1,"exp":2}"#,
        #"{"iss":"i","sub":"u-1","rid":"b-1","spc":"s","jti":"t","iat":"1","nbf":1,"exp":2}"#,
        #"{"iss":"i","sub":"u-1","rid":"b-1","spc":"s","jti":"t","iat":true,"nbf":1,"exp":2}"#,
        #"{"iss":"i","sub":"u-1","rid":["b-1"],"spc":"s","jti":"t","iat":1,"nbf":1,"exp":2}"#,
        #"{"iss":"i","sub":"u-\u0031","rid":"b-1","spc":"s","jti":"t","iat":1,"nbf":1,"exp":2,"extra":{"a":[1,{}]}}"#,
        #"{"iss":"i","sub":"u-1","sub":"u-2","rid":"b-1","spc":"s","jti":"t","iat":1,"nbf":1,"exp":2}"#,
        #"{"iss":"i","sub":"\ud83d","rid":"b-1","spc":"s","jti":"t","iat":1,"nbf":1,"exp":2}"#,
        #"{"iss":"i","nbf":01}"#, #"{"exp":1.}"#, #"{}"#, #"{"#,
    ])
    func claimsEdgeCasesAgree(claims: String) throws {
        try JSONDifferential.expectAgreement([Array(claims.utf8)], Self.checkClaims)
    }

    @Test func bytesThatAreNotUTF8AreRefused() {
        let header = Array(#"{"alg":"EdDSA","kid":"kid-1","x":"#.utf8) + [0x22, 0xC3, 0x28, 0x22, 0x7D]
        #expect(TokenVerifier.Header(header) == nil)
    }

    /// Byte flips, deletions, insertions and truncations of real headers and claims, from a fixed seed.
    @Test func mutationsAgreeWithTheReference() throws {
        let headers = [
            #"{"alg":"EdDSA","typ":"JWT","kid":"kid-1"}"#, #"{"kid":"k\u002d2","alg":"EdDSA","crit":null,"x":[1]}"#,
        ].map { Array($0.utf8) }
        let claims = [
            #"{"iss":"https://booking.example","sub":"u-1","rid":"b-1","spc":"room-1","jti":"t-1","iat":900,"nbf":1000,"exp":2000.5}"#,
            #"{"exp":2e3,"nbf":-1,"iat":0,"jti":"t","spc":"s","rid":"r","sub":"u","iss":"i","z":{"a":null}}"#,
        ].map { Array($0.utf8) }
        try JSONDifferential.expectAgreement(
            JSONDifferential.mutations(of: headers, count: 3000, seed: 0x70C3), Self.checkHeader)
        try JSONDifferential.expectAgreement(
            JSONDifferential.mutations(of: claims, count: 3000, seed: 0x70C4), Self.checkClaims)
    }
}
