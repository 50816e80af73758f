/// JSON serialization as RFC 8785 (JCS) prescribes for the values the gateway writes: keys sorted
/// by UTF-16 code units, no whitespace, integers in decimal, strings escaped minimally.
/// The same writer produces the wire messages, so they are canonical too.
public enum CanonicalJSON {
    public static func serialize(_ value: JSONValue) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        write(value, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// An object of the fields that are present (nil fields are omitted).
    public static func object(_ fields: [(String, JSONValue?)]) -> String {
        serialize(.object(fields.compactMap { key, value in value.map { (key, $0) } }))
    }

    public static func write(_ value: JSONValue, into output: inout [UInt8]) {
        switch value {
        case .string(let text): writeString(text, into: &output)
        case .integer(let number): writeInteger(number, into: &output)
        case .bool(let flag): output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .decimal(let number): output.append(contentsOf: (number.isFinite ? "\(number)" : "0").utf8)
        case .object(let fields):
            output.append(UInt8(ascii: "{"))
            // Most objects are built with their keys already in order: checking costs no copy.
            let inOrder = zip(fields, fields.dropFirst()).allSatisfy { !Self.precedes($1.0, $0.0) }
            let sorted = inOrder ? fields : fields.sorted { Self.precedes($0.0, $1.0) }
            for (index, (key, field)) in sorted.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                writeString(key, into: &output)
                output.append(UInt8(ascii: ":"))
                write(field, into: &output)
            }
            output.append(UInt8(ascii: "}"))
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                write(element, into: &output)
            }
            output.append(UInt8(ascii: "]"))
        }
    }

    /// JCS key order: by UTF-16 code units.
    static func precedes(_ left: String, _ right: String) -> Bool {
        left.utf16.lexicographicallyPrecedes(right.utf16)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Decimal digits written in place (no `String` per number); Int64.min included. The same
    /// text as `String(value)`.
    public static func writeInteger(_ value: Int64, into output: inout [UInt8]) {
        if value < 0 { output.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = 20
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            output.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start..<20]))
        }
    }

    static func writeString(_ text: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        // Identifiers, hashes and reasons need no escape: one copy instead of a byte at a time,
        // scanned where the string keeps its bytes (no iterator per byte).
        let copied =
            text.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
                for byte in bytes where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                    return false
                }
                output.append(contentsOf: bytes)
                return true
            } ?? false
        if copied {
            output.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x08: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x09: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x0A: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0C: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0D: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x00..<0x20:
                output.append(contentsOf: Array("\\u00".utf8))
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0x0F)])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}
