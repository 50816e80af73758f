import AccessProtocol
import Testing

/// RFC 8785 (JCS) as the gateway writes it: what the audit hashes and the wire messages rest on.
@Suite struct CanonicalJSONTests {
    @Test func keysAreSortedByUTF16CodeUnitsWhateverOrderTheyCameIn() {
        // U+FB01 sorts after U+1F600 by code point but before it by UTF-16 code unit (the
        // emoji's high surrogate is 0xD83D): JCS wants the UTF-16 order.
        let fields: [(String, JSONValue?)] = [
            ("b", .integer(2)), ("\u{1F600}", .integer(4)), ("a", .integer(1)), ("\u{FB01}", .integer(3)),
            ("B", .integer(0)), ("absent", nil),
        ]
        #expect(CanonicalJSON.object(fields) == "{\"B\":0,\"a\":1,\"b\":2,\"\u{1F600}\":4,\"\u{FB01}\":3}")
        let sorted: [(String, JSONValue?)] = [("B", .integer(0)), ("a", .integer(1)), ("b", .integer(2))]
        #expect(CanonicalJSON.object(sorted) == "{\"B\":0,\"a\":1,\"b\":2}")
    }

    @Test func stringsAreEscapedMinimallyAndPlainOnesCopiedAsTheyAre() {
        #expect(CanonicalJSON.serialize(.string("lock-1 ü €")) == "\"lock-1 ü €\"")
        #expect(CanonicalJSON.serialize(.string("a\"b\\c")) == #""a\"b\\c""#)
        #expect(CanonicalJSON.serialize(.string("t\tn\nu\u{1}")) == #""t\tn\nu\u0001""#)
        #expect(CanonicalJSON.serialize(.string("\u{7F}")) == "\"\u{7F}\"")
    }

    @Test func integersAreWrittenInDecimalAtEveryMagnitude() {
        for value: Int64 in [0, 7, -7, 10, 1_795_276_800_000, Int64.max, Int64.min, -1_000_000_007] {
            #expect(CanonicalJSON.serialize(.integer(value)) == String(value))
        }
    }

    /// The writer of the per-decision messages gives the bytes the general one gives, for any
    /// mix of present and absent fields and any string.
    @Test func theObjectWriterWritesWhatTheGeneralWriterWrites() {
        var generator = SystemRandomNumberGenerator()
        let strings = ["", "lock-1", "a\"b\\c", "t\tn\nu\u{1}", "ü €", "\u{1F600}"]
        for _ in 0..<500 {
            func maybeString() -> String? {
                Bool.random(using: &generator) ? strings.randomElement(using: &generator) : nil
            }
            let integer: Int64? =
                Bool.random(using: &generator) ? Int64.random(in: .min ... .max, using: &generator) : nil
            let (a, c, e) = (maybeString(), maybeString(), maybeString())
            let flag = Bool.random(using: &generator)
            var writer = CanonicalObjectWriter()
            writer.string("a", a)
            writer.bool("b", flag)
            writer.string("c", c)
            writer.integer("d", integer)
            writer.string("e", e)
            let general = CanonicalJSON.object([
                ("a", a.map(JSONValue.string)), ("b", .bool(flag)), ("c", c.map(JSONValue.string)),
                ("d", integer.map(JSONValue.integer)), ("e", e.map(JSONValue.string)),
            ])
            #expect(writer.finish() == general)
        }
        var empty = CanonicalObjectWriter()
        empty.string("a", nil)
        #expect(empty.finish() == "{}")
    }
}
