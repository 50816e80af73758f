/// A strict JSON reader (RFC 8259) over a payload's bytes that validates everything it passes but
/// builds no dictionary, no `Data` and no decoder: its callers walk an object's members and keep
/// the few values they need (`RequestFieldReader` for access requests, the token verifier for a
/// token's header and claims). Foundation's `JSONDecoder` was a tenth of a PIN decision's CPU.
///
/// The caller checks that the bytes are UTF-8 first: the bytes between escapes are copied as they
/// are. Nesting deeper than `maximumDepth` is refused.
public struct JSONReader {
    /// A value as its reader keeps it: only strings and numbers matter; anything else is `other`.
    public enum Scalar: Equatable, Sendable {
        case string(String)
        /// A number without fraction or exponent, within Int64.
        case integer(Int64)
        /// Any other number, as the nearest `Double` (infinite beyond its range).
        case number(Double)
        case null
        /// `true`, `false`, an object or an array.
        case other
    }

    public enum Problem: Error, Equatable, Sendable {
        case notJSON
        /// A repeated key among the members a caller keeps (which copy would the sender have meant?).
        case duplicateKey(String)
    }

    public static let maximumDepth = 512

    private let bytes: [UInt8]
    /// How far the reader has read.
    private var index = 0

    private init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Reads `bytes` as exactly one JSON object (whitespace around it allowed), calling `member`
    /// with the reader positioned at each member's value; `member` must read or skip it.
    public static func readObject(
        _ bytes: [UInt8], _ member: (inout JSONReader, String) throws(Problem) -> Void
    ) throws(Problem) {
        var reader = JSONReader(bytes)
        reader.skipWhitespace()
        try reader.object(depth: 1, member)
        reader.skipWhitespace()
        guard reader.index == reader.bytes.count else { throw .notJSON }
    }

    /// The next byte, for a caller that reads a member's value its own way.
    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func expect(_ byte: UInt8) throws(Problem) {
        guard peek == byte else { throw .notJSON }
        index += 1
    }

    /// `{ "key": value, ... }`, calling `member` with the reader positioned at each value.
    mutating func object(
        depth: Int, _ member: (inout JSONReader, String) throws(Problem) -> Void
    ) throws(Problem) {
        guard depth <= Self.maximumDepth else { throw .notJSON }
        try expect(UInt8(ascii: "{"))
        skipWhitespace()
        if peek == UInt8(ascii: "}") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            let key = try string()
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            try member(&self, key)
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                return
            default: throw .notJSON
            }
        }
    }

    /// One value, kept as a scalar (objects and arrays are validated and skipped).
    public mutating func value(depth: Int) throws(Problem) -> Scalar {
        // 0 (the end) starts no JSON value: it falls to skipValue's refusal.
        switch peek ?? 0 {
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        default:
            try skipValue(depth: depth)
            return .other
        }
    }

    public mutating func skipValue(depth: Int) throws(Problem) {
        switch peek ?? 0 {
        case UInt8(ascii: "{"):
            try object(depth: depth + 1) { reader, _ throws(Problem) in try reader.skipValue(depth: depth + 1) }
        case UInt8(ascii: "["):
            guard depth + 1 <= Self.maximumDepth else { throw .notJSON }
            index += 1
            skipWhitespace()
            if peek == UInt8(ascii: "]") {
                index += 1
                return
            }
            while true {
                skipWhitespace()
                try skipValue(depth: depth + 1)
                skipWhitespace()
                switch peek {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "]"):
                    index += 1
                    return
                default: throw .notJSON
                }
            }
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try number()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: throw .notJSON
        }
    }

    private mutating func literal(_ word: StaticString) throws(Problem) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw .notJSON }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { throw .notJSON }
        index += count
    }

    /// `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`; an integer only without fraction or exponent
    /// and within Int64.
    private mutating func number() throws(Problem) -> Scalar {
        let start = index
        var negative = false
        if peek == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        guard let first = peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { throw .notJSON }
        // Accumulated negatively: Int64.min has no positive counterpart.
        var magnitude: Int64 = 0
        var fits = true
        if first == UInt8(ascii: "0") {
            index += 1
        } else {
            while let digit = peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit) {
                let (times, overflowA) = magnitude.multipliedReportingOverflow(by: 10)
                let (next, overflowB) = times.subtractingReportingOverflow(Int64(digit - UInt8(ascii: "0")))
                if overflowA || overflowB { fits = false } else { magnitude = next }
                index += 1
            }
        }
        var integral = true
        if peek == UInt8(ascii: ".") {
            integral = false
            index += 1
            try digits()
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            integral = false
            index += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
            try digits()
        }
        guard index > start, integral, fits else { return .number(Self.double(bytes[start..<index])) }
        if negative { return .integer(magnitude) }
        let (positive, overflow) = Int64(0).subtractingReportingOverflow(magnitude)
        return overflow ? .number(Self.double(bytes[start..<index])) : .integer(positive)
    }

    /// The nearest `Double` to a number's text (as `strtod` rounds it; infinite when beyond range).
    private static func double(_ text: ArraySlice<UInt8>) -> Double {
        Double(String(decoding: text, as: UTF8.self)) ?? .nan
    }

    private mutating func digits() throws(Problem) {
        guard let digit = peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit) else { throw .notJSON }
        while let digit = peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit) { index += 1 }
    }

    /// A string: no control characters, only JSON's escapes, surrogate pairs whole. The payload
    /// was checked to be UTF-8 before, so the bytes between escapes are copied as they are.
    private mutating func string() throws(Problem) -> String {
        try expect(UInt8(ascii: "\""))
        let start = index
        // The common case: no escape at all, one copy.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                defer { index += 1 }
                return String(decoding: bytes[start..<index], as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw .notJSON }
            index += 1
        }
        var text = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""): return String(decoding: text, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard let escaped = peek else { throw .notJSON }
                index += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(escaped)
                case UInt8(ascii: "b"): text.append(0x08)
                case UInt8(ascii: "f"): text.append(0x0C)
                case UInt8(ascii: "n"): text.append(0x0A)
                case UInt8(ascii: "r"): text.append(0x0D)
                case UInt8(ascii: "t"): text.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = UInt32(try hex4())
                    if (0xD800...0xDBFF).contains(scalar) {
                        // A high surrogate must be followed by its low one.
                        guard peek == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u")
                        else { throw .notJSON }
                        index += 2
                        let low = UInt32(try hex4())
                        guard (0xDC00...0xDFFF).contains(low) else { throw .notJSON }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw .notJSON
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw .notJSON }
                    text.append(contentsOf: UTF8.encode(unicode).map { Array($0) } ?? [])
                default: throw .notJSON
                }
            default:
                guard byte >= 0x20 else { throw .notJSON }
                text.append(byte)
            }
        }
        throw .notJSON
    }

    private mutating func hex4() throws(Problem) -> UInt16 {
        guard index + 4 <= bytes.count else { throw .notJSON }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw .notJSON
            }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }
}
