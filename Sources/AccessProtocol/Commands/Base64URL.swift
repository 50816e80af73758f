/// base64url (RFC 4648 §5) without padding, as JWTs and command MACs use it.
public enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index + 3 <= bytes.count {
            let chunk = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            output.append(alphabet[Int(chunk >> 18 & 0x3F)])
            output.append(alphabet[Int(chunk >> 12 & 0x3F)])
            output.append(alphabet[Int(chunk >> 6 & 0x3F)])
            output.append(alphabet[Int(chunk & 0x3F)])
            index += 3
        }
        let remaining = bytes.count - index
        if remaining == 1 {
            let chunk = UInt32(bytes[index]) << 16
            for shift in [18, 12] { output.append(alphabet[Int(chunk >> UInt32(shift) & 0x3F)]) }
        } else if remaining == 2 {
            let chunk = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            for shift in [18, 12, 6] { output.append(alphabet[Int(chunk >> UInt32(shift) & 0x3F)]) }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes unpadded base64url; nil for any other character, padding, or an impossible length.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        // Straight from the string's own bytes where it keeps them contiguous (native strings do).
        if let decoded = text.utf8.withContiguousStorageIfAvailable({ decode(bytes: $0) }) { return decoded }
        return Array(text.utf8).withUnsafeBufferPointer { decode(bytes: $0) }
    }

    /// Four characters make three bytes; a last group of two or three makes one or two, whose
    /// unused low bits must be zero, so that each text has exactly one decoding.
    static func decode(bytes: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        let count = bytes.count
        guard count % 4 != 1 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(count * 3 / 4)
        var index = 0
        while index + 4 <= count {
            guard let a = value(bytes[index]), let b = value(bytes[index + 1]), let c = value(bytes[index + 2]),
                let d = value(bytes[index + 3])
            else { return nil }
            let chunk = a << 18 | b << 12 | c << 6 | d
            output.append(UInt8(truncatingIfNeeded: chunk >> 16))
            output.append(UInt8(truncatingIfNeeded: chunk >> 8))
            output.append(UInt8(truncatingIfNeeded: chunk))
            index += 4
        }
        switch count - index {
        case 2:
            guard let a = value(bytes[index]), let b = value(bytes[index + 1]) else { return nil }
            let chunk = a << 18 | b << 12
            guard chunk & 0xFFFF == 0 else { return nil }
            output.append(UInt8(truncatingIfNeeded: chunk >> 16))
        case 3:
            guard let a = value(bytes[index]), let b = value(bytes[index + 1]), let c = value(bytes[index + 2])
            else { return nil }
            let chunk = a << 18 | b << 12 | c << 6
            guard chunk & 0xFF == 0 else { return nil }
            output.append(UInt8(truncatingIfNeeded: chunk >> 16))
            output.append(UInt8(truncatingIfNeeded: chunk >> 8))
        default:
            break
        }
        return output
    }

    /// A character's six bits; nil for one outside the base64url alphabet.
    private static func value(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): UInt32(byte - UInt8(ascii: "A"))
        case UInt8(ascii: "a")...UInt8(ascii: "z"): UInt32(byte - UInt8(ascii: "a") + 26)
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0") + 52)
        case UInt8(ascii: "-"): 62
        case UInt8(ascii: "_"): 63
        default: nil
        }
    }
}
