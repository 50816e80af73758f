/// A lock's access request after schema validation (contract, "Access request").
public struct AccessRequest: Sendable, Hashable {
    public static let maximumPayloadBytes = 8 * 1024
    public static let maximumTokenBytes = 4096

    public var requestID: String
    public var credential: Credential
    /// The lock's own clock, Unix milliseconds; informative only.
    public var timestampMs: Int64?

    public init(requestID: String, credential: Credential, timestampMs: Int64? = nil) {
        self.requestID = requestID
        self.credential = credential
        self.timestampMs = timestampMs
    }
}

/// Why a request payload was rejected as `malformed`; `requestID` is kept when it was valid, so the
/// decision can echo it.
public struct MalformedRequest: Error, Sendable, Hashable {
    public var requestID: String?
    public var problem: String

    public init(requestID: String?, problem: String) {
        self.requestID = requestID
        self.problem = problem
    }
}
