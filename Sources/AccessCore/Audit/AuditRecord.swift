import AccessProtocol

/// One audit record (contract, "Audit record"): every access request that gets a decision yields
/// exactly one, committed before the decision or any command is published. No PIN and no whole
/// token is ever in it.
public struct AuditRecord: Sendable, Hashable {
    public var seq: Int64
    public var timestampMs: Int64
    public var gatewayID: String
    public var lockID: String
    public var requestID: String?
    public var credentialType: String?
    public var reservationID: String?
    public var holder: String?
    public var jti: String?
    public var granted: Bool
    public var reason: DecisionReason
    public var commandID: String?
    /// Operator unlocks only.
    public var operatorName: String?
    public var note: String?
    /// (v1.1) Aggregated `rate_limited` and `busy` records only: how many such decisions the lock
    /// got in the minute the record covers.
    public var count: Int64?
    /// (project extension) What a record that is not a lock's request records: a PIN written to
    /// or cleared from a lock's slot (`pin_slot_set`, `pin_slot_cleared`), or a door the lock
    /// opened by itself for one of those PINs (`keypad_open`). Nil for decisions.
    public var event: String?

    public init(
        seq: Int64 = 0, timestampMs: Int64, gatewayID: String, lockID: String, requestID: String? = nil,
        credentialType: String? = nil, reservationID: String? = nil, holder: String? = nil, jti: String? = nil,
        granted: Bool, reason: DecisionReason, commandID: String? = nil, operatorName: String? = nil,
        note: String? = nil, count: Int64? = nil, event: String? = nil
    ) {
        self.seq = seq
        self.timestampMs = timestampMs
        self.gatewayID = gatewayID
        self.lockID = lockID
        self.requestID = requestID
        self.credentialType = credentialType
        self.reservationID = reservationID
        self.holder = holder
        self.jti = jti
        self.granted = granted
        self.reason = reason
        self.commandID = commandID
        self.operatorName = operatorName
        self.note = note
        self.count = count
        self.event = event
    }

    /// `canonical(record)`: the record as a JCS object, absent fields omitted.
    public var canonical: String {
        // Keys in JCS order (one record per decision).
        var writer = CanonicalObjectWriter()
        writer.string("commandId", commandID)
        writer.integer("count", count)
        writer.string("credentialType", credentialType)
        writer.string("event", event)
        writer.string("gatewayId", gatewayID)
        writer.bool("granted", granted)
        writer.string("holder", holder)
        writer.string("jti", jti)
        writer.string("lockId", lockID)
        writer.string("note", note)
        writer.string("operator", operatorName)
        writer.string("reason", reason.rawValue)
        writer.string("requestId", requestID)
        writer.string("reservationId", reservationID)
        writer.integer("seq", seq)
        writer.integer("ts", timestampMs)
        return writer.finish()
    }
}
