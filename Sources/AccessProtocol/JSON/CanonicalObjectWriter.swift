/// One JCS object written field by field, for the messages made on every decision (the decision,
/// the command, the audit record): no array of fields, no `JSONValue` per field, no check of
/// the key order at run time and no string per integer. Building those was about 2 % of a PIN
/// decision's CPU at saturation.
///
/// The caller gives the keys in JCS order (UTF-16 code units; the keys are ASCII, so byte order)
/// and ASCII without anything to escape; debug builds check both. A nil value omits its field.
/// The bytes are those `CanonicalJSON.object` writes for the same fields (`CanonicalJSONTests`).
public struct CanonicalObjectWriter {
    private var output: [UInt8] = []
    private var lastKey: StaticString?

    public init() {
        output.reserveCapacity(320)
        output.append(UInt8(ascii: "{"))
    }

    public mutating func string(_ key: StaticString, _ value: String?) {
        guard let value else { return }
        writeKey(key)
        CanonicalJSON.writeString(value, into: &output)
    }

    public mutating func integer(_ key: StaticString, _ value: Int64?) {
        guard let value else { return }
        writeKey(key)
        CanonicalJSON.writeInteger(value, into: &output)
    }

    public mutating func bool(_ key: StaticString, _ value: Bool) {
        writeKey(key)
        output.append(contentsOf: value ? "true".utf8 : "false".utf8)
    }

    /// The object's text; the writer is spent.
    public mutating func finish() -> String {
        output.append(UInt8(ascii: "}"))
        return String(decoding: output, as: UTF8.self)
    }

    private mutating func writeKey(_ key: StaticString) {
        assert(Self.isPlain(key), "a key must be ASCII with nothing to escape")
        if let lastKey {
            assert(Self.bytes(lastKey).lexicographicallyPrecedes(Self.bytes(key)), "keys out of JCS order")
            output.append(UInt8(ascii: ","))
        }
        lastKey = key
        output.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { output.append(contentsOf: $0) }
        output.append(UInt8(ascii: "\""))
        output.append(UInt8(ascii: ":"))
    }

    private static func bytes(_ key: StaticString) -> [UInt8] { key.withUTF8Buffer { Array($0) } }

    private static func isPlain(_ key: StaticString) -> Bool {
        key.withUTF8Buffer {
            $0.allSatisfy { $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
        }
    }
}
