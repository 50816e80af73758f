import AccessCore
import AccessProtocol
import AccessStore
import AccessTesting
import MQTTTesting
import Testing

/// A booking backend in another language: tokens minted by PyJWT (with `cryptography`) and PINs
/// derived by a plain Python script are accepted by the gateway's engine.
@Suite struct InteropTests {
    static let start: Int64 = 1_795_276_800_000
    static let booking = Reservation(
        id: "b-77", spaceID: "room-1", holder: "u-123", startMs: start, endMs: start + 7_200_000, version: 3)

    @Test func tokensMintedByPyJWTAndPINsDerivedInPythonOpenTheDoor() async throws {
        let python = try #require(PackagePaths.interopPython, "run scripts/install-deps.sh to create .venv-interop")
        let store = try TemporaryStore()
        try store.insert([Self.booking])
        let seed = store.testSite.minter.privateKey.rawRepresentation.map { String(format: "%02x", $0) }.joined()
        let pinKey = TestSite.pinKeyBytes.map { String(format: "%02x", $0) }.joined()
        let script = """
            import hashlib, hmac, sys, jwt
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
            key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(sys.argv[1]))
            start, end = 1795276800, 1795284000
            claims = {"iss": "https://booking.example", "sub": "u-123", "rid": "b-77", "spc": "room-1",
                      "iat": start - 600, "nbf": start - 600, "exp": end, "jti": "t-py-1"}
            print(jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": "kid-1"}))
            print(jwt.encode(dict(claims, jti="t-py-2"), key, algorithm="EdDSA", headers={"kid": "kid-2"}))
            print(jwt.encode(dict(claims, jti="t-py-3"), "a-shared-secret", algorithm="HS256", headers={"kid": "kid-1"}))
            message = "pin\\nsite-1\\nroom-1\\nb-77\\n%d\\n%d" % (start, end)
            digest = hmac.new(bytes.fromhex(sys.argv[2]), message.encode(), hashlib.sha256).digest()
            print(str(int.from_bytes(digest[:8], "big") % 10**8).zfill(8))
            """
        let result = try await ExternalTool.captureDetached(python, ["-c", script, seed, pinKey])
        #expect(result.status == 0, "\(result.standardError)")
        let lines = result.standardOutput.split(separator: "\n").map(String.init)
        try #require(lines.count == 4)
        #expect(lines[3] == store.testSite.pin(of: Self.booking))

        let expected: [(Credential, DecisionReason)] = [
            (.token(lines[0]), .granted),
            (.token(lines[1]), .invalidCredential),  // kid-2 is not configured
            (.token(lines[2]), .invalidCredential),  // HS256 is never accepted
            (.pin(lines[3]), .granted),
        ]
        for (index, (credential, reason)) in expected.enumerated() {
            let payload = TestSite.requestPayload(requestID: "r-\(index)", credential: credential)
            guard
                case .decided(let decided) = await store.engine.handle(
                    lockID: "lock-1", payload: payload, nowMs: Self.start)
            else { Issue.record("no decision"); continue }
            #expect(decided.decision.reason == reason, "credential \(index)")
        }
    }
}
