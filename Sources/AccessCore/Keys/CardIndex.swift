import AccessProtocol
import Crypto

/// Keyed digests of card numbers: the store maps a card to its holder through them and never
/// holds a number in clear. A Wiegand card number is short (24 to 32 bits), so an unkeyed hash
/// would be searched in seconds; the key is derived from the site key, which no store holds.
public struct CardIndex: @unchecked Sendable {
    // SymmetricKey is immutable once made; swift-crypto 3 just does not declare it Sendable.
    private let indexKey: SymmetricKey

    public init(siteKey: SymmetricKey, siteID: String) {
        let label = Array("card-index\n\(siteID)".utf8)
        indexKey = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: label, using: siteKey)))
    }

    /// A card number as readers send it: decimal, leading zeros dropped (1 to 20 digits, not 0).
    public static func normalized(_ number: String) -> String? {
        let digits = number.utf8
        guard (1...20).contains(digits.count), digits.allSatisfy({ (48...57).contains($0) }) else { return nil }
        let trimmed = String(number.drop { $0 == "0" })
        return trimmed.isEmpty ? nil : trimmed
    }

    /// 16 bytes of `HMAC-SHA256(indexKey, normalized number)`.
    public func digest(card number: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(number.utf8), using: indexKey).prefix(16))
    }
}
