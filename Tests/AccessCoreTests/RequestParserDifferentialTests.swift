import AccessProtocol
import Foundation
import MQTTTesting
import Testing

/// The request reader against Foundation's `JSONDecoder` (what parsed requests before it): on
/// hand-made edge cases and on thousands of mutations of real requests, whatever one accepts the
/// other accepts with the same fields. The reader is stricter only where it says so: a repeated
/// kept key, a `ts` written with a fraction or an exponent, and payloads that are not JSON at all
/// but that Foundation lets through (a trailing comma, `1.`, `2-5` in a field nobody reads):
/// each of those is confirmed not to be JSON by Python's strict `json` module.
@Suite struct RequestParserDifferentialTests {
    /// The former parser's decoding, kept here as the reference.
    struct Reference: Decodable, Equatable {
        var requestID: String?
        var credentialType: String?
        var credentialValue: String?
        var ts: Int64?
        var timestampIsValid = true

        enum Keys: String, CodingKey { case requestId, credential, ts, type, value }

        init(from decoder: any Decoder) throws {
            let object = try decoder.container(keyedBy: Keys.self)
            requestID = try? object.decodeIfPresent(String.self, forKey: .requestId)
            if object.contains(.ts) {
                do { ts = try object.decode(Int64.self, forKey: .ts) } catch { timestampIsValid = false }
            }
            if let credential = try? object.nestedContainer(keyedBy: Keys.self, forKey: .credential) {
                credentialType = try? credential.decodeIfPresent(String.self, forKey: .type)
                credentialValue = try? credential.decodeIfPresent(String.self, forKey: .value)
            }
        }

        /// What `AccessRequest.parse` made of it.
        static func parse(_ payload: [UInt8]) -> AccessRequest? {
            guard String(validating: payload, as: UTF8.self) != nil,
                let decoded = try? JSONDecoder().decode(Reference.self, from: Data(payload)),
                let requestID = decoded.requestID, Identifier.isValid(requestID), decoded.timestampIsValid,
                let type = decoded.credentialType, let value = decoded.credentialValue
            else { return nil }
            switch type {
            case "token" where !value.isEmpty && value.utf8.count <= AccessRequest.maximumTokenBytes:
                return AccessRequest(requestID: requestID, credential: .token(value), timestampMs: decoded.ts)
            case "pin"
            where (4...12).contains(value.utf8.count) && value.utf8.allSatisfy({ (48...57).contains($0) }):
                return AccessRequest(requestID: requestID, credential: .pin(value), timestampMs: decoded.ts)
            default: return nil
            }
        }
    }

    /// Where the reader may refuse what the reference accepted, by design.
    static func strictnessExplains(_ payload: [UInt8], problem: String) -> Bool {
        problem.hasPrefix("duplicate key") || problem == "ts is not an integer"
    }

    typealias Verdict = JSONDifferential.Verdict

    static func check(_ payload: [UInt8]) -> Verdict {
        let reference = Reference.parse(payload)
        switch AccessRequest.parse(payload) {
        case .success(let request):
            return reference == request
                ? .agree : .disagree("reader accepted \(request), reference \(String(describing: reference))")
        case .failure(let malformed):
            guard let reference else { return .agree }
            if strictnessExplains(payload, problem: malformed.problem) { return .agree }
            if malformed.problem == "payload is not a JSON object" { return .readerStricter }
            return .disagree("reader refused (\(malformed.problem)) what the reference accepted: \(reference)")
        }
    }

    static func expectAgreement(_ payloads: [[UInt8]]) throws {
        try JSONDifferential.expectAgreement(payloads, check)
    }

    @Test(arguments: [
        #"{"requestId":"r-1","credential":{"type":"pin","value":"1234"}}"#,
        #"  {"requestId" : "r-1" , "credential" : { "type" : "pin" , "value" : "1234" } }  "#,
        #"{"requestId":"r-1","credential":{"type":"pin","value":"1234"},"ts":-42}"#,
        #"{"requestId":"r-1","credential":{"type":"pin","value":"1234"},"ts":9223372036854775807}"#,
        #"{"requestId":"r-1","credential":{"type":"pin","value":"1234"},"ts":9223372036854775808}"#,
        #"{"requestId":"r-1","credential":{"type":"pin","value":"1234"},"ts":-9223372036854775808}"#,
        #"{"requestId":"r-1","credential":{"type":"pin","value":"1234"},"ts":012}"#,
        #"{"requestId":"r-1","credential":{"type":"pin","value":"1234"},"ts":null}"#,
        #"{"requestId":"r\u002d1","credential":{"type":"t\u006fken","value":"a\"b\\c\/d\n\u00e9\ud83d\ude00"}}"#,
        #"{"requestId":"r-1","credential":{"type":"token","value":"\ud83d"}}"#,
        #"{"requestId":"r-1","credential":{"type":"token","value":"\ude00x"}}"#,
        #"{"requestId":"r-1","credential":{"type":"token","value":"\x"}}"#,
        "{\"requestId\":\"r-1\",\"credential\":{\"type\":\"token\",\"value\":\"a\tb\"}}",
        #"{"requestId":"r-1","credential":{"type":"pin","value":"1234","extra":[1,{"a":[true,false,null]},-0.5e+3]}}"#,
        #"{"requestId":"r-1","credential":{"type":"pin","value":"1234"}} x"#,
        #"{"requestId":"r-1","credential":{"type":"pin","value":"1234"},}"#,
        #"{"requestId":"r-1",,"credential":{"type":"pin","value":"1234"}}"#,
        #"{"requestId":"r-1","credential":{"type":"pin","value":"1234"},"n":1.}"#,
        #"{"requestId":"r-1","credential":{"type":"pin","value":"1234"},"n":.5}"#,
        #"{"requestId":"r-1","credential":{"type":"pin","value":"1234"},"n":tru}"#,
        #"{"requestId":"r-1","credential":{"type":"pin","value":"1234"},"n":[1,]}"#,
        #"{"requestId":"r-1","credential":[{"type":"pin","value":"1234"}]}"#,
        #"{}"#, #""#, #"{"#, #"}"#, #"null"#, #""r-1""#,
    ])
    func edgeCasesAgreeWithTheReference(payload: String) throws {
        try Self.expectAgreement([Array(payload.utf8)])
    }

    @Test func aRepeatedKeptKeyIsRefused() {
        for payload in [
            #"{"requestId":"r-1","requestId":"r-2","credential":{"type":"pin","value":"1234"}}"#,
            #"{"requestId":"r-1","credential":{"type":"pin","value":"1234","value":"9999"}}"#,
            #"{"requestId":"r-1","credential":{"type":"pin","value":"1234"},"credential":{"type":"pin","value":"9"}}"#,
        ] {
            guard case .failure(let malformed) = AccessRequest.parse(Array(payload.utf8)) else {
                Issue.record("accepted \(payload)")
                continue
            }
            #expect(malformed.problem.hasPrefix("duplicate key"))
        }
    }

    @Test func deepNestingIsRefusedWithoutExhaustingTheStack() {
        let deep =
            #"{"requestId":"r-1","x":"# + String(repeating: "[", count: 4000) + String(repeating: "]", count: 4000)
            + #","credential":{"type":"pin","value":"1234"}}"#
        #expect(throws: MalformedRequest.self) { try AccessRequest.parse(Array(deep.utf8)).get() }
    }

    /// Byte flips, deletions, insertions and truncations of real requests, from a fixed seed.
    @Test func mutationsOfRealRequestsAgreeWithTheReference() throws {
        let seeds = [
            #"{"requestId":"r-0001","credential":{"type":"token","value":"eyJhbGciOiJFZERTQSJ9.e30.c2ln"},"ts":1763740800000}"#,
            #"{"requestId":"q-17","credential":{"type":"pin","value":"04921234"},"x":[1,2.5,{"y":null}]}"#,
            #"{"ts":5,"credential":{"value":"1234","type":"pin"},"requestId":"r-\u0041"}"#,
        ].map { Array($0.utf8) }
        try Self.expectAgreement(JSONDifferential.mutations(of: seeds, count: 6000, seed: 0x5EED))
    }
}
