/// Reads an access request's few fields straight from its bytes (`JSONReader`): the whole payload
/// is validated, and only `requestId`, `ts` and `credential.type`/`.value` are kept.
///
/// Stricter than `JSONDecoder` in two ways, both denied as malformed: a repeated key among the
/// fields it keeps (which copy would a lock have meant?), and nesting deeper than 512.
enum RequestFieldReader {
    typealias Scalar = JSONReader.Scalar
    typealias Problem = JSONReader.Problem

    struct Fields {
        var requestID: Scalar?
        var ts: Scalar?
        /// nil when absent; `.other` when present but not an object.
        var credential: Scalar?
        var credentialType: Scalar?
        var credentialValue: Scalar?
    }

    /// The kept fields of a payload that must be one JSON object (whitespace around it allowed).
    static func read(_ payload: [UInt8]) throws(Problem) -> Fields {
        var fields = Fields()
        try JSONReader.readObject(payload) { reader, key throws(Problem) in
            switch key {
            case "requestId":
                guard fields.requestID == nil else { throw .duplicateKey(key) }
                fields.requestID = try reader.value(depth: 1)
            case "ts":
                guard fields.ts == nil else { throw .duplicateKey(key) }
                fields.ts = try reader.value(depth: 1)
            case "credential":
                guard fields.credential == nil else { throw .duplicateKey(key) }
                guard reader.peek == UInt8(ascii: "{") else {
                    fields.credential = try reader.value(depth: 1)
                    return
                }
                fields.credential = .other
                try reader.object(depth: 2) { reader, key throws(Problem) in
                    switch key {
                    case "type":
                        guard fields.credentialType == nil else { throw .duplicateKey("credential.type") }
                        fields.credentialType = try reader.value(depth: 2)
                    case "value":
                        guard fields.credentialValue == nil else { throw .duplicateKey("credential.value") }
                        fields.credentialValue = try reader.value(depth: 2)
                    default:
                        try reader.skipValue(depth: 2)
                    }
                }
            default:
                try reader.skipValue(depth: 1)
            }
        }
        return fields
    }
}
