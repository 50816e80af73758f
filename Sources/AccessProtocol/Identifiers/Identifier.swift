/// The contract's identifier rule for sites, locks, poles, spaces, reservations, holders,
/// requests, commands, alarms and `jti`s: `[A-Za-z0-9][A-Za-z0-9._-]{0,63}`.
///
/// Anything else (`/ + # $`, `.`, `..`, empty, too long, non-ASCII) is rejected, so an
/// identifier can be put into a topic or a query without escaping.
public enum Identifier {
    public static let maximumLength = 64

    public static func isValid(_ text: some StringProtocol) -> Bool {
        let bytes = text.utf8
        guard let first = bytes.first, bytes.count <= maximumLength, isAlphanumeric(first) else { return false }
        return bytes.allSatisfy {
            isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
        }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}

extension Identifier {
    /// `prefix` and 16 random hex digits (command, alarm and operator request ids).
    public static func random(prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let hex = String(generator.next() as UInt64, radix: 16)
        return prefix + String(repeating: "0", count: 16 - hex.count) + hex
    }
}
