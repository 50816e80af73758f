import AccessProtocol
import Crypto

/// Keypad PINs derived from a booking (contract, "Keypad PIN"):
/// `decimal(u64be(HMAC-SHA256(pinKey, "pin\n" + siteId + "\n" + spaceId + "\n" + reservationId
/// + "\n" + startUnixS + "\n" + endUnixS)[0..<8]) mod 10^digits)`, zero-padded to `digits`.
// SymmetricKey is immutable once made; swift-crypto 3 just does not declare it Sendable.
public struct KeypadPIN: @unchecked Sendable {
    private let pinKey: PreparedHMAC
    public let siteID: String
    /// 4 to 12 (site setting, default 8).
    public let digits: Int

    public init(pinKey: SymmetricKey, siteID: String, digits: Int = 8) {
        self.pinKey = PreparedHMAC(key: pinKey)
        self.siteID = siteID
        self.digits = min(12, max(4, digits))
    }

    /// The PIN of a reservation; `startUnixS`/`endUnixS` are whole seconds (floor).
    public func pin(spaceID: String, reservationID: String, startUnixS: Int64, endUnixS: Int64) -> String {
        let message = Array("pin\n\(siteID)\n\(spaceID)\n\(reservationID)\n\(startUnixS)\n\(endUnixS)".utf8)
        let code = Array(pinKey.code(for: message))
        var value: UInt64 = 0
        for byte in code.prefix(8) { value = value << 8 | UInt64(byte) }
        var modulus: UInt64 = 1
        for _ in 0..<digits { modulus *= 10 }
        let text = String(value % modulus)
        return String(repeating: "0", count: digits - text.count) + text
    }

    /// Compares a presented PIN with an expected one in time independent of where they differ.
    public static func constantTimeEquals(_ presented: String, _ expected: String) -> Bool {
        let left = Array(presented.utf8)
        let right = Array(expected.utf8)
        // Lengths compared as a flag: their XOR truncated to a byte would call 0 and 256 equal.
        var difference: UInt8 = left.count == right.count ? 0 : 1
        for index in 0..<max(left.count, right.count) {
            let a = index < left.count ? left[index] : 0
            let b = index < right.count ? right[index] : 0
            difference |= a ^ b
        }
        return difference == 0
    }
}
