import AccessCore
import Crypto
import Foundation
import Testing

/// Keys whose private half is printed in an RFC are never trusted as issuer keys.
@Suite struct PublishedKeysTests {
    static func bytes(_ hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return bytes
    }

    /// Each listed public key is the one its printed private key gives: no typo in the list.
    @Test(arguments: PublishedKeys.ed25519)
    func eachListedKeyIsThePairItsDocumentPrints(entry: PublishedKeys.Entry) throws {
        let privateKey = try Curve25519.Signing.PrivateKey(rawRepresentation: Self.bytes(entry.privateSeedHex))
        #expect(Array(privateKey.publicKey.rawRepresentation) == Self.bytes(entry.publicKeyHex))
    }

    @Test func anIssuerWithAPublishedKeyIsRefusedAndAnyOtherAccepted() throws {
        // RFC 8037's example JWK `x`, the key the example configuration used to ship.
        #expect(throws: IssuerKeyError.self) {
            try IssuerKey(
                kid: "kid-1", issuer: "https://booking.example",
                publicKeyBase64: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
        }
        let own = Curve25519.Signing.PrivateKey().publicKey.rawRepresentation.base64EncodedString()
        #expect(try IssuerKey(kid: "kid-1", issuer: "https://booking.example", publicKeyBase64: own).kid == "kid-1")
    }
}
