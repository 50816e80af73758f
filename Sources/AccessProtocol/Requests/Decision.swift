/// The decision sent back to a lock (contract, "Decision").
public struct Decision: Sendable, Hashable {
    /// Omitted when the request had no valid one, and for `unknown_lock` and `rate_limited`.
    public var requestID: String?
    public var reason: DecisionReason
    public var reservationID: String?
    public var commandID: String?
    /// For `locked_out`: whole seconds left, rounded up.
    public var retryAfterS: Int64?
    public var timestampMs: Int64

    public init(
        requestID: String?, reason: DecisionReason, reservationID: String? = nil, commandID: String? = nil,
        retryAfterS: Int64? = nil, timestampMs: Int64
    ) {
        self.requestID = requestID
        self.reason = reason
        self.reservationID = reservationID
        self.commandID = commandID
        self.retryAfterS = retryAfterS
        self.timestampMs = timestampMs
    }

    public var granted: Bool { reason.isGrant }

    public var payload: String {
        // Keys in JCS order, so the writer need not sort them (one decision per request).
        CanonicalJSON.object([
            ("commandId", commandID.map(JSONValue.string)),
            ("granted", .bool(granted)),
            ("reason", .string(reason.rawValue)),
            ("requestId", requestID.map(JSONValue.string)),
            ("reservationId", reservationID.map(JSONValue.string)),
            ("retryAfterS", retryAfterS.map(JSONValue.integer)),
            ("ts", .integer(timestampMs)),
        ])
    }
}
