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
}
