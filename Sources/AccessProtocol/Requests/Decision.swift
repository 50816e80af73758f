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
        // Keys in JCS order (one decision per request).
        var writer = CanonicalObjectWriter()
        writer.string("commandId", commandID)
        writer.bool("granted", granted)
        writer.string("reason", reason.rawValue)
        writer.string("requestId", requestID)
        writer.string("reservationId", reservationID)
        writer.integer("retryAfterS", retryAfterS)
        writer.integer("ts", timestampMs)
        return writer.finish()
    }
}
