#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What the gateway publishes about itself (contract, "Gateway"): its retained status (and Last
/// Will), its retained audit head, and replies to operator unlocks (a project extension).
public enum GatewayMessages {
    public static func status(gatewayID: String, online: Bool, ts: Int64?) -> String {
        CanonicalJSON.object([
            ("online", .bool(online)), ("gatewayId", .string(gatewayID)), ("ts", ts.map(JSONValue.integer)),
        ])
    }

    /// `{"seq","hash","ts"}` of the newest audit record.
    public static func auditHead(seq: Int64, hash: String, ts: Int64) -> String {
        CanonicalJSON.object([("seq", .integer(seq)), ("hash", .string(hash)), ("ts", .integer(ts))])
    }

    /// The `seq` and `hash` of a published audit head; nil for anything else.
    public static func parseAuditHead(_ payload: [UInt8]) -> (seq: Int64, hash: String)? {
        struct Wire: Decodable {
            var seq: Int64
            var hash: String
        }
        guard payload.count <= 1024, let wire = try? JSONDecoder().decode(Wire.self, from: Data(payload)),
            wire.seq > 0, wire.hash.utf8.count == 64,
            wire.hash.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })
        else { return nil }
        return (wire.seq, wire.hash)
    }

    /// The reply to an operator unlock: the decision, its command and audit position, or a refusal.
    public static func operatorReply(
        requestID: String?, granted: Bool, reason: String, commandID: String? = nil, auditSeq: Int64? = nil,
        detail: String? = nil
    ) -> String {
        CanonicalJSON.object([
            ("requestId", requestID.map(JSONValue.string)), ("granted", .bool(granted)), ("reason", .string(reason)),
            ("commandId", commandID.map(JSONValue.string)), ("auditSeq", auditSeq.map(JSONValue.integer)),
            ("detail", detail.map(JSONValue.string)),
        ])
    }
}
