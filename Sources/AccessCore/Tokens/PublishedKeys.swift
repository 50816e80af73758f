/// Ed25519 key pairs whose private half is printed in a public document: a token signed with one
/// of them could have been made by anybody, so the gateway refuses to trust their public half as
/// an issuer key (`IssuerKey` checks every configured key against this list).
///
/// `PublishedKeysTests` derives each public key from the private key the document prints, so
/// the list cannot hold a typo.
public enum PublishedKeys {
    public struct Entry: Sendable, Hashable {
        /// The 32-byte private seed, as printed (hex).
        public var privateSeedHex: String
        /// The public key (hex).
        public var publicKeyHex: String
        public var source: String
    }

    public static let ed25519: [Entry] = [
        Entry(
            privateSeedHex: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            publicKeyHex: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            source: "RFC 8037 appendix A (the JWK example key) and RFC 8032 section 7.1, test 1"),
        Entry(
            privateSeedHex: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            publicKeyHex: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            source: "RFC 8032 section 7.1, test 2"),
        Entry(
            privateSeedHex: "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
            publicKeyHex: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
            source: "RFC 8032 section 7.1, test 3"),
    ]

    /// Where the key was published, if it was.
    public static func source(ofEd25519PublicKey bytes: [UInt8]) -> String? {
        let hex = bytes.map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
        }.joined()
        return ed25519.first { $0.publicKeyHex == hex }?.source
    }
}
