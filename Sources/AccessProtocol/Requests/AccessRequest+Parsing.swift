extension AccessRequest {
    /// Validates a request payload: size, UTF-8, a JSON object, a valid `requestId`, and a
    /// credential of a known type and shape. Unknown fields are ignored.
    public static func parse(_ payload: [UInt8]) -> Result<AccessRequest, MalformedRequest> {
        guard payload.count <= maximumPayloadBytes else {
            return .failure(MalformedRequest(requestID: nil, problem: "payload over \(maximumPayloadBytes) bytes"))
        }
        guard String(validating: payload, as: UTF8.self) != nil else {
            return .failure(MalformedRequest(requestID: nil, problem: "payload is not UTF-8"))
        }
        let fields: RequestFieldReader.Fields
        do {
            fields = try RequestFieldReader.read(payload)
        } catch .duplicateKey(let key) {
            return .failure(MalformedRequest(requestID: nil, problem: "duplicate key \(key)"))
        } catch {
            return .failure(MalformedRequest(requestID: nil, problem: "payload is not a JSON object"))
        }
        guard case .string(let requestID) = fields.requestID, Identifier.isValid(requestID) else {
            return .failure(MalformedRequest(requestID: nil, problem: "requestId missing or not an identifier"))
        }
        func malformed(_ problem: String) -> Result<AccessRequest, MalformedRequest> {
            .failure(MalformedRequest(requestID: requestID, problem: problem))
        }
        // A `ts` that is present must be an integer; absent is tolerated.
        var timestampMs: Int64?
        switch fields.ts {
        case nil: break
        case .integer(let value): timestampMs = value
        default: return malformed("ts is not an integer")
        }
        guard case .string(let type) = fields.credentialType, case .string(let value) = fields.credentialValue else {
            return malformed("credential.type or credential.value missing")
        }
        switch type {
        case "token":
            guard !value.isEmpty, value.utf8.count <= maximumTokenBytes else {
                return malformed("token empty or over \(maximumTokenBytes) bytes")
            }
            return .success(AccessRequest(requestID: requestID, credential: .token(value), timestampMs: timestampMs))
        case "pin":
            let digits = value.utf8
            guard (4...12).contains(digits.count), digits.allSatisfy({ (48...57).contains($0) }) else {
                return malformed("pin is not 4 to 12 ASCII digits")
            }
            return .success(AccessRequest(requestID: requestID, credential: .pin(value), timestampMs: timestampMs))
        default:
            return malformed("credential.type is neither token nor pin")
        }
    }
}
