extension BookingMessage {
    /// The message as the booking backend publishes it on `R/bookings` (and one NDJSON line of
    /// a bulk import).
    public var payload: String { payload(seq: nil) }

    /// The message as a v1.1 backend publishes it, with its feed position.
    public func payload(seq: Int64?) -> String {
        let seqField: (String, JSONValue?) = ("seq", seq.map(JSONValue.integer))
        return switch self {
        case .upsert(let r):
            CanonicalJSON.object([
                ("op", .string("upsert")),
                (
                    "reservation",
                    .object([
                        ("id", .string(r.id)), ("spaceId", .string(r.spaceID)), ("holder", .string(r.holder)),
                        ("start", .string(RFC3339.format(r.startMs))), ("end", .string(RFC3339.format(r.endMs))),
                        ("status", .string(r.status.rawValue)), ("version", .integer(r.version)),
                        ("graceBeforeMin", .integer(r.graceBeforeS / 60)),
                        ("graceAfterMin", .integer(r.graceAfterS / 60)), ("singleUse", .bool(r.singleUse)),
                    ])
                ), seqField,
            ])
        case .cancel(let id, let version):
            CanonicalJSON.object([
                ("op", .string("cancel")), ("id", .string(id)), ("version", .integer(version)), seqField,
            ])
        case .revoke(let jti):
            CanonicalJSON.object([("op", .string("revoke")), ("jti", .string(jti)), seqField])
        case .resync(let seq):
            CanonicalJSON.object([("op", .string("resync")), ("seq", .integer(seq))])
        }
    }
}
