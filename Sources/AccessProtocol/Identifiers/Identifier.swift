/// The contract's identifier rule for sites, locks, poles, spaces, reservations, holders,
/// requests, commands, alarms and `jti`s: `[A-Za-z0-9][A-Za-z0-9._-]{0,63}`.
///
/// Anything else (`/ + # $`, `.`, `..`, empty, too long, non-ASCII) is rejected, so an
/// identifier can be put into a topic or a query without escaping.
public enum Identifier {
    public static let maximumLength = 64

    // Inlinable so that each caller gets it for its own string type: generic across modules it
    // looked up its witnesses at every byte (0.5 % of a PIN decision's CPU at saturation).
    @inlinable
    public static func isValid(_ text: some StringProtocol) -> Bool {
        let bytes = text.utf8
        guard let first = bytes.first, bytes.count <= maximumLength, isAlphanumeric(first) else { return false }
        for byte in bytes where !isIdentifierByte(byte) { return false }
        return true
    }

    @usableFromInline
    static func isIdentifierByte(_ byte: UInt8) -> Bool {
        isAlphanumeric(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }

    @usableFromInline
    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}

extension Identifier {
    /// `prefix` and 16 random hex digits (command, alarm and operator request ids).
    public static func random(prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        var value: UInt64 = generator.next()
        // Written in place: no intermediate strings (a command id is made for every grant).
        var digits = [UInt8](repeating: UInt8(ascii: "0"), count: 16)
        for index in stride(from: 15, through: 0, by: -1) {
            let nibble = UInt8(truncatingIfNeeded: value & 0x0F)
            digits[index] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
            value >>= 4
        }
        return prefix + String(decoding: digits, as: UTF8.self)
    }
}
