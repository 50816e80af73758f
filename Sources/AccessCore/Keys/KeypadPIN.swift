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
        // Built byte by byte, without intermediate strings: each candidate of a PIN is confirmed
        // by deriving its PIN again (2 % of a PIN decision's CPU at saturation).
        var message: [UInt8] = []
        message.reserveCapacity(32 + siteID.utf8.count + spaceID.utf8.count + reservationID.utf8.count)
        message.append(contentsOf: "pin\n".utf8)
        message.append(contentsOf: siteID.utf8)
        message.append(UInt8(ascii: "\n"))
        message.append(contentsOf: spaceID.utf8)
        message.append(UInt8(ascii: "\n"))
        message.append(contentsOf: reservationID.utf8)
        message.append(UInt8(ascii: "\n"))
        CanonicalJSON.writeInteger(startUnixS, into: &message)
        message.append(UInt8(ascii: "\n"))
        CanonicalJSON.writeInteger(endUnixS, into: &message)
        let value = pinKey.code(for: message).withUnsafeBytes { code in
            code.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        }
        var modulus: UInt64 = 1
        for _ in 0..<digits { modulus *= 10 }
        var rest = value % modulus
        // `digits` decimal digits, zero-padded (at most 12: a small string, no allocation).
        return String(unsafeUninitializedCapacity: digits) { buffer in
            for index in stride(from: digits - 1, through: 0, by: -1) {
                buffer[index] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            }
            return digits
        }
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
