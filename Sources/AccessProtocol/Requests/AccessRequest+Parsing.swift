#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

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
        let envelope: Envelope
        do {
            envelope = try JSONDecoder().decode(Envelope.self, from: Data(payload))
        } catch {
            return .failure(MalformedRequest(requestID: nil, problem: "payload is not a JSON object"))
        }
        guard let requestID = envelope.requestID, Identifier.isValid(requestID) else {
            return .failure(MalformedRequest(requestID: nil, problem: "requestId missing or not an identifier"))
        }
        func malformed(_ problem: String) -> Result<AccessRequest, MalformedRequest> {
            .failure(MalformedRequest(requestID: requestID, problem: problem))
        }
        guard envelope.timestampIsValid else { return malformed("ts is not an integer") }
        guard let type = envelope.credentialType, let value = envelope.credentialValue else {
            return malformed("credential.type or credential.value missing")
        }
        switch type {
        case "token":
            guard !value.isEmpty, value.utf8.count <= maximumTokenBytes else {
                return malformed("token empty or over \(maximumTokenBytes) bytes")
            }
            return .success(AccessRequest(requestID: requestID, credential: .token(value), timestampMs: envelope.ts))
        case "pin":
            let digits = value.utf8
            guard (4...12).contains(digits.count), digits.allSatisfy({ (48...57).contains($0) }) else {
                return malformed("pin is not 4 to 12 ASCII digits")
            }
            return .success(AccessRequest(requestID: requestID, credential: .pin(value), timestampMs: envelope.ts))
        default:
            return malformed("credential.type is neither token nor pin")
        }
    }

    /// Decodes field by field, so that a bad credential still leaves a usable `requestId`.
    private struct Envelope: Decodable {
        var requestID: String?
        var credentialType: String?
        var credentialValue: String?
        var ts: Int64?
        var timestampIsValid = true

        enum Keys: String, CodingKey {
            case requestId, credential, ts, type, value
        }

        init(from decoder: any Decoder) throws {
            let object = try decoder.container(keyedBy: Keys.self)
            requestID = try? object.decodeIfPresent(String.self, forKey: .requestId)
            if object.contains(.ts) {
                // A `ts` that is present must be an integer; absent is tolerated.
                do { ts = try object.decode(Int64.self, forKey: .ts) } catch { timestampIsValid = false }
            }
            if let credential = try? object.nestedContainer(keyedBy: Keys.self, forKey: .credential) {
                credentialType = try? credential.decodeIfPresent(String.self, forKey: .type)
                credentialValue = try? credential.decodeIfPresent(String.self, forKey: .value)
            }
        }
    }
}
