import AccessProtocol
import Foundation
import Testing

/// base64url without padding, checked against Foundation's base64 on every length up to 100, and
/// every way a text can fail to be one.
@Suite struct Base64URLTests {
    /// Foundation's decoding of the same text in the standard alphabet, padded.
    func foundationDecoding(_ text: String) -> [UInt8]? {
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while standard.count % 4 != 0 { standard += "=" }
        return Data(base64Encoded: standard).map { Array($0) }
    }

    @Test func everyLengthRoundTripsAndMatchesFoundation() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...100 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let text = Base64URL.encode(bytes)
            #expect(!text.contains("=") && !text.contains("+") && !text.contains("/"))
            #expect(Base64URL.decode(text) == bytes)
            #expect(Base64URL.decode(Substring(text)) == bytes)
            #expect(foundationDecoding(text) == bytes)
        }
    }

    @Test func anythingElseIsRefused() {
        for text in [
            "A",  // a length no encoding has
            "QUJD=",  // padding
            "QU+D", "QU/D", "QU D", "QUJ\u{e9}",  // outside the alphabet
            "QR",  // "A" with unused bits set: only "QQ" decodes to it
            "QUK",  // "AB" with unused bits set: only "QUI" decodes to it
        ] {
            #expect(Base64URL.decode(text) == nil, "\(text)")
        }
        #expect(Base64URL.decode("QQ") == [0x41] && Base64URL.decode("QUI") == [0x41, 0x42])
        #expect(Base64URL.decode("") == [])
    }
}
