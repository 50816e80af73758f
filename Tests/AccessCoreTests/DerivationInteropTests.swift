import AccessCore
import AccessProtocol
import Crypto
import Foundation
import Testing

/// Key, PIN and MAC derivations checked against an independent implementation (Python's hmac
/// and hashlib, run as a separate process), so a booking backend or lock firmware in another
/// language derives the same values.
@Suite struct DerivationInteropTests {
    let siteKeyBytes = (0..<32).map { UInt8($0 * 7 & 0xFF) }
    let pinKeyBytes = (0..<32).map { UInt8(255 - $0) }

    /// Runs a Python snippet and returns its stdout lines.
    func python(_ script: String) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test func deviceKeysPINsAndCommandMACsMatchAnIndependentImplementation() throws {
        let keys = DeviceKeys(siteKey: SymmetricKey(data: siteKeyBytes), siteID: "site-1")
        let pins = KeypadPIN(pinKey: SymmetricKey(data: pinKeyBytes), siteID: "site-1", digits: 8)
        let lockKey = keys.lockKey(lockID: "lock-3")
        let canonical = CommandMAC.lockCanonical(
            siteID: "site-1", lockID: "lock-3", commandID: "c-9f2", action: "unlock", unlockForS: 5,
            issuedAt: 1_763_740_800_010, notAfter: 1_763_740_805_010)
        let poleCanonical = CommandMAC.poleCanonical(
            siteID: "site-1", poleID: "pole-2", commandID: "c-1", action: "light", level: 100, forS: 300,
            issuedAt: 1_763_740_800_010, notAfter: 1_763_740_805_010)
        let ours = [
            lockKey.withUnsafeBytes { Data($0).map { String(format: "%02x", $0) }.joined() },
            keys.poleKey(poleID: "pole-2").withUnsafeBytes { Data($0).map { String(format: "%02x", $0) }.joined() },
            pins.pin(spaceID: "room-3", reservationID: "b-77", startUnixS: 1_763_740_800, endUnixS: 1_763_748_000),
            KeypadPIN(pinKey: SymmetricKey(data: pinKeyBytes), siteID: "site-1", digits: 4)
                .pin(spaceID: "room-3", reservationID: "b-77", startUnixS: 1_763_740_800, endUnixS: 1_763_748_000),
            CommandMAC.mac(canonical: canonical, key: lockKey),
            CommandMAC.mac(canonical: poleCanonical, key: keys.poleKey(poleID: "pole-2")),
        ]
        let theirs = try python(
            """
            import hmac, hashlib, base64
            site = bytes((i * 7) & 0xFF for i in range(32)); pin_key = bytes(255 - i for i in range(32))
            h = lambda k, m: hmac.new(k, m.encode(), hashlib.sha256).digest()
            lock = h(site, "lock-key\\nsite-1\\nlock-3"); pole = h(site, "pole-key\\nsite-1\\npole-2")
            p = int.from_bytes(h(pin_key, "pin\\nsite-1\\nroom-3\\nb-77\\n1763740800\\n1763748000")[:8], "big")
            b64 = lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")
            print(lock.hex()); print(pole.hex()); print(str(p % 10**8).zfill(8)); print(str(p % 10**4).zfill(4))
            print(b64(h(lock, "v1\\nsite-1\\nlock-3\\nc-9f2\\nunlock\\n5\\n1763740800010\\n1763740805010")))
            print(b64(h(pole, "v1\\nsite-1\\npole-2\\nc-1\\nlight\\n100\\n300\\n1763740800010\\n1763740805010")))
            """)
        #expect(ours == theirs)
        #expect(CommandMAC.verify(mac: ours[4], canonical: canonical, key: lockKey))
        #expect(!CommandMAC.verify(mac: ours[4], canonical: canonical + "0", key: lockKey))
        #expect(!CommandMAC.verify(mac: ours[5], canonical: canonical, key: lockKey))
    }

    @Test(arguments: [
        ("b-77", true), ("A", true), ("room.3_x-y", true), (String(repeating: "a", count: 64), true),
        (String(repeating: "a", count: 65), false), ("", false), (".", false), ("..", false), ("-a", false),
        ("a/b", false), ("a+b", false), ("a#", false), ("$share", false), ("é", false), ("a b", false),
    ])
    func identifierRule(text: String, valid: Bool) {
        #expect(Identifier.isValid(text) == valid)
    }

    @Test func pinComparisonIsExact() {
        #expect(KeypadPIN.constantTimeEquals("04921377", "04921377"))
        #expect(!KeypadPIN.constantTimeEquals("04921378", "04921377"))
        #expect(!KeypadPIN.constantTimeEquals("0492137", "04921377"))
        #expect(!KeypadPIN.constantTimeEquals("", "04921377"))
    }

    @Test func base64URLRoundTripsAndRejectsNonCanonicalText() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(($0 * 37 + length) & 0xFF) }
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
        }
        #expect(Base64URL.decode("ab=") == nil)
        #expect(Base64URL.decode("a") == nil)
        #expect(Base64URL.decode("ab+/") == nil)
        #expect(Base64URL.decode("AB") == nil)  // low bits set: "AA" is the one encoding of 0x00
        #expect(Base64URL.decode("AA") == [0])
    }
}
