import AccessCore

/// The site's topic tree under `R = <prefix>/<siteId>` (contract, "Common rules").
public struct SiteTopics: Sendable, Hashable {
    public let root: String

    public init(prefix: String, siteID: String) {
        root = "\(prefix)/\(siteID)"
    }

    public var requests: String { "\(root)/locks/+/request" }
    public var lockEvents: String { "\(root)/locks/+/event" }
    public var lockStatus: String { "\(root)/locks/+/status" }
    public var poleTelemetry: String { "\(root)/poles/+/telemetry" }
    public var poleStatus: String { "\(root)/poles/+/status" }
    public var bookings: String { "\(root)/bookings" }
    public var alarms: String { "\(root)/alarms" }

    public func decision(lockID: String) -> String { "\(root)/locks/\(lockID)/decision" }
    public func command(lockID: String) -> String { "\(root)/locks/\(lockID)/command" }
    public func lockPrefix(lockID: String) -> String { "\(root)/locks/\(lockID)/" }
    public func poleCommand(poleID: String) -> String { "\(root)/poles/\(poleID)/command" }
    public func gatewayStatus(gatewayID: String) -> String { "\(root)/gateway/\(gatewayID)/status" }
    public func auditHead(gatewayID: String) -> String { "\(root)/gateway/\(gatewayID)/audit" }
    /// Operator remote unlocks for this gateway (a project extension; see docs/gateway.md).
    public func operatorUnlock(gatewayID: String) -> String { "\(root)/gateway/\(gatewayID)/operator/unlock" }
    public func operatorResult(gatewayID: String) -> String { "\(root)/gateway/\(gatewayID)/operator/result" }

    /// What an inbound topic is; the device id is returned as received (checked by the caller).
    public enum Inbound: Sendable, Hashable {
        case request(lockID: String)
        case lockEvent(lockID: String)
        case lockStatus(lockID: String)
        case poleTelemetry(poleID: String)
        case poleStatus(poleID: String)
        case bookings
        case operatorUnlock(gatewayID: String)
    }

    public func classify(_ topic: String) -> Inbound? {
        guard topic.hasPrefix(root + "/") else { return nil }
        let rest = topic.dropFirst(root.count + 1).split(separator: "/", omittingEmptySubsequences: false)
        if rest.count == 1, rest[0] == "bookings" { return .bookings }
        if rest.count == 4, rest[0] == "gateway", rest[2] == "operator", rest[3] == "unlock" {
            return .operatorUnlock(gatewayID: String(rest[1]))
        }
        guard rest.count == 3 else { return nil }
        let id = String(rest[1])
        switch (rest[0], rest[2]) {
        case ("locks", "request"): return .request(lockID: id)
        case ("locks", "event"): return .lockEvent(lockID: id)
        case ("locks", "status"): return .lockStatus(lockID: id)
        case ("poles", "telemetry"): return .poleTelemetry(poleID: id)
        case ("poles", "status"): return .poleStatus(poleID: id)
        default: return nil
        }
    }

    /// A v5 Response Topic is honoured only under the requesting lock's own branch, without
    /// wildcards, so no device can aim the gateway's messages elsewhere.
    public func isAcceptableResponseTopic(_ topic: String, lockID: String) -> Bool {
        let prefix = lockPrefix(lockID: lockID)
        return topic.hasPrefix(prefix) && topic.count > prefix.count && !topic.contains(where: { "+#".contains($0) })
            && topic.utf8.count <= 512
    }
}
