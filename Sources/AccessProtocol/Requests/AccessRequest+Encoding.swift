extension AccessRequest {
    /// The request as a lock sends it (contract, "Access request").
    public var payload: String {
        CanonicalJSON.object([
            ("requestId", .string(requestID)),
            ("credential", .object([("type", .string(credential.typeName)), ("value", .string(credential.value))])),
            ("ts", timestampMs.map(JSONValue.integer)),
        ])
    }
}

extension Credential {
    /// The token or the PIN, as presented.
    public var value: String {
        switch self {
        case .token(let token): token
        case .pin(let pin): pin
        case .card(let number): number
        }
    }
}
