import Crypto

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// An operator's remote unlock request to a running gateway (a project extension of the wire
/// contract, on `R/gateway/<gatewayId>/operator/unlock`): MAC-signed with the operator key
/// `HMAC-SHA256(siteKey, "operator-key\n" + siteId)`, fresh within 30 s, never replayed. The MAC
/// covers the gateway id, so a request meant for one gateway of a site opens nothing through
/// another.
public struct OperatorUnlock: Sendable, Hashable {
    public static let maximumNoteBytes = 500
    public static let freshnessMs: Int64 = 30_000

    public var requestID: String
    public var lockID: String
    public var operatorName: String
    public var note: String
    public var issuedAtMs: Int64
    public var mac: String

    public static func operatorKey(siteKey: SymmetricKey, siteID: String) -> SymmetricKey {
        SymmetricKey(
            data: Array(HMAC<SHA256>.authenticationCode(for: Array("operator-key\n\(siteID)".utf8), using: siteKey)))
    }

    /// `"v2\n" + siteId + "\n" + gatewayId + "\n" + requestId + "\n" + lockId + "\n" + operator + "\n"
    /// + issuedAt + "\n" + note`
    public static func canonical(
        siteID: String, gatewayID: String, requestID: String, lockID: String, operatorName: String, issuedAtMs: Int64,
        note: String
    ) -> String {
        "v2\n\(siteID)\n\(gatewayID)\n\(requestID)\n\(lockID)\n\(operatorName)\n\(issuedAtMs)\n\(note)"
    }

    public init(
        siteID: String, gatewayID: String, requestID: String, lockID: String, operatorName: String, note: String,
        issuedAtMs: Int64, operatorKey: SymmetricKey
    ) {
        self.requestID = requestID
        self.lockID = lockID
        self.operatorName = operatorName
        self.note = note
        self.issuedAtMs = issuedAtMs
        self.mac = CommandMAC.mac(
            canonical: Self.canonical(
                siteID: siteID, gatewayID: gatewayID, requestID: requestID, lockID: lockID,
                operatorName: operatorName, issuedAtMs: issuedAtMs, note: note),
            key: operatorKey)
    }

    public var payload: String {
        CanonicalJSON.object([
            ("requestId", .string(requestID)), ("lockId", .string(lockID)), ("operator", .string(operatorName)),
            ("note", .string(note)), ("issuedAt", .integer(issuedAtMs)), ("mac", .string(mac)),
        ])
    }

    /// Parses and checks shape, MAC (constant time) and freshness; the caller checks replay.
    public static func verify(
        _ payload: [UInt8], siteID: String, gatewayID: String, operatorKey: SymmetricKey, nowMs: Int64
    ) -> Result<OperatorUnlock, MalformedRequest> {
        guard payload.count <= 4096, String(validating: payload, as: UTF8.self) != nil,
            let wire = try? JSONDecoder().decode(Wire.self, from: Data(payload))
        else { return .failure(MalformedRequest(requestID: nil, problem: "not an operator unlock")) }
        guard Identifier.isValid(wire.requestId), Identifier.isValid(wire.lockId), Identifier.isValid(wire.operator),
            wire.note.utf8.count <= maximumNoteBytes
        else { return .failure(MalformedRequest(requestID: nil, problem: "ids or note out of bounds")) }
        let canonical = Self.canonical(
            siteID: siteID, gatewayID: gatewayID, requestID: wire.requestId, lockID: wire.lockId,
            operatorName: wire.operator, issuedAtMs: wire.issuedAt, note: wire.note)
        guard CommandMAC.verify(mac: wire.mac, canonical: canonical, key: operatorKey) else {
            return .failure(MalformedRequest(requestID: wire.requestId, problem: "bad operator MAC"))
        }
        // Checked: an `issuedAt` near Int64.min must be refused, not trap.
        let (age, overflow) = nowMs.subtractingReportingOverflow(wire.issuedAt)
        guard !overflow, age != .min, abs(age) <= freshnessMs else {
            return .failure(MalformedRequest(requestID: wire.requestId, problem: "operator request not fresh"))
        }
        var unlock = OperatorUnlock(
            siteID: siteID, gatewayID: gatewayID, requestID: wire.requestId, lockID: wire.lockId,
            operatorName: wire.operator, note: wire.note, issuedAtMs: wire.issuedAt, operatorKey: operatorKey)
        unlock.mac = wire.mac
        return .success(unlock)
    }

    struct Wire: Decodable {
        var requestId: String
        var lockId: String
        var `operator`: String
        var note: String
        var issuedAt: Int64
        var mac: String
    }
}
