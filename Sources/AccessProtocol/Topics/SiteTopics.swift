/// The site's topic tree under `R = <prefix>/<siteId>` (contract, "Common rules"): the one place
/// a topic is built, for the gateway, accessctl, the simulators and the benches alike.
public struct SiteTopics: Sendable, Hashable {
    public static let defaultPrefix = "access"

    public let root: String

    public init(prefix: String = SiteTopics.defaultPrefix, siteID: String) {
        root = "\(prefix)/\(siteID)"
    }

    /// Everything under the site root (observers, tests).
    public var everything: String { "\(root)/#" }
    public var lockCommands: String { "\(root)/locks/+/command" }
    public var poleCommands: String { "\(root)/poles/+/command" }
    public var gatewayStatuses: String { "\(root)/gateway/+/status" }

    // A lock's and a pole's own topics, as the device publishes and reads them.
    public func request(lockID: String) -> String { "\(root)/locks/\(lockID)/request" }
    public func event(lockID: String) -> String { "\(root)/locks/\(lockID)/event" }
    public func status(lockID: String) -> String { "\(root)/locks/\(lockID)/status" }
    /// The v5 response topic a lock names in its requests (any topic under its own branch will do).
    public func reply(lockID: String) -> String { "\(root)/locks/\(lockID)/reply" }
    public func telemetry(poleID: String) -> String { "\(root)/poles/\(poleID)/telemetry" }
    public func status(poleID: String) -> String { "\(root)/poles/\(poleID)/status" }

    public var requests: String { "\(root)/locks/+/request" }
    public var lockEvents: String { "\(root)/locks/+/event" }
    public var lockStatus: String { "\(root)/locks/+/status" }
    public var poleTelemetry: String { "\(root)/poles/+/telemetry" }
    public var poleStatus: String { "\(root)/poles/+/status" }
    public var bookings: String { "\(root)/bookings" }
    /// (v1.1) The feed's newest `seq`, retained.
    public var bookingsHead: String { "\(root)/bookings/head" }
    /// (v1.1) Gateways ask the backend here for what they missed.
    public var bookingsReplay: String { "\(root)/bookings/replay" }
    /// (v1.1) The backend's replay answers to one gateway.
    public func bookingAnswers(gatewayID: String) -> String { "\(root)/gateway/\(gatewayID)/bookings" }
    public var alarms: String { "\(root)/alarms" }

    public func decision(lockID: String) -> String { "\(root)/locks/\(lockID)/decision" }
    public func command(lockID: String) -> String { "\(root)/locks/\(lockID)/command" }
    public func lockPrefix(lockID: String) -> String { "\(root)/locks/\(lockID)/" }
    public func poleCommand(poleID: String) -> String { "\(root)/poles/\(poleID)/command" }
    public func gatewayStatus(gatewayID: String) -> String { "\(root)/gateway/\(gatewayID)/status" }
    public func auditHead(gatewayID: String) -> String { "\(root)/gateway/\(gatewayID)/audit" }
    /// Live state, retained (a project extension; docs/operations.md): one topic per device.
    public func lockState(gatewayID: String, lockID: String) -> String {
        "\(root)/gateway/\(gatewayID)/state/locks/\(lockID)"
    }
    public func poleState(gatewayID: String, poleID: String) -> String {
        "\(root)/gateway/\(gatewayID)/state/poles/\(poleID)"
    }
    /// Every device's live state of every gateway (operators, dashboards).
    public var liveStates: String { "\(root)/gateway/+/state/#" }
    /// Home Assistant's remote open of a lock (`homeAssistant.remoteOpen`): `UNLOCK` or `OPEN`.
    public func homeAssistantSet(gatewayID: String, lockID: String) -> String {
        "\(root)/gateway/\(gatewayID)/homeassistant/locks/\(lockID)/set"
    }
    public func homeAssistantSets(gatewayID: String) -> String {
        "\(root)/gateway/\(gatewayID)/homeassistant/locks/+/set"
    }
    /// The open alarms, retained; and each alarm's end (a project extension).
    public var activeAlarms: String { "\(root)/alarms/active" }
    public var clearedAlarms: String { "\(root)/alarms/cleared" }
    /// Operator remote unlocks for this gateway (a project extension; see docs/gateway.md).
    public func operatorUnlock(gatewayID: String) -> String { "\(root)/gateway/\(gatewayID)/operator/unlock" }
    public func operatorResult(gatewayID: String) -> String { "\(root)/gateway/\(gatewayID)/operator/result" }
    /// An operator's private reply topic for one request (under the gateway's operator branch).
    public func operatorReply(gatewayID: String, requestID: String) -> String {
        "\(operatorBranch(gatewayID: gatewayID))reply-\(requestID)"
    }
    public func operatorBranch(gatewayID: String) -> String { "\(root)/gateway/\(gatewayID)/operator/" }

    /// An operator's Response Topic is honoured only under this gateway's operator branch, without
    /// wildcards; anything else gets the reply on `operatorResult`.
    public func operatorReplyTopic(requested: String?, gatewayID: String) -> String {
        let branch = operatorBranch(gatewayID: gatewayID)
        if let requested, requested.hasPrefix(branch), requested.utf8.count <= 512,
            !requested.contains(where: { "+#".contains($0) })
        {
            return requested
        }
        return operatorResult(gatewayID: gatewayID)
    }

    /// What an inbound topic is; the device id is returned as received (checked by the caller).
    public enum Inbound: Sendable, Hashable {
        case request(lockID: String)
        case lockEvent(lockID: String)
        case lockStatus(lockID: String)
        case poleTelemetry(poleID: String)
        case poleStatus(poleID: String)
        case bookings
        case operatorUnlock(gatewayID: String)
        case homeAssistantSet(gatewayID: String, lockID: String)
    }

    /// Levels are split at the byte `/`, as the broker splits them (a `/` followed by a combining
    /// mark is still a separator), and compared as bytes: no grapheme breaking on the path every
    /// message takes.
    public func classify(_ topic: String) -> Inbound? {
        let bytes = topic.utf8
        let rootBytes = root.utf8
        guard bytes.starts(with: rootBytes) else { return nil }
        let afterRoot = bytes.dropFirst(rootBytes.count)
        guard afterRoot.first == UInt8(ascii: "/") else { return nil }
        // At most 7 pieces: a topic with more levels than any inbound one is nothing.
        let rest = afterRoot.dropFirst().split(
            separator: UInt8(ascii: "/"), maxSplits: 6, omittingEmptySubsequences: false)
        func level(_ index: Int, is word: StaticString) -> Bool {
            word.withUTF8Buffer { rest[index].elementsEqual($0) }
        }
        func text(_ index: Int) -> String { String(decoding: rest[index], as: UTF8.self) }
        switch rest.count {
        case 1 where level(0, is: "bookings"):
            return .bookings
        case 3:
            let id = text(1)
            if level(0, is: "locks") {
                if level(2, is: "request") { return .request(lockID: id) }
                if level(2, is: "event") { return .lockEvent(lockID: id) }
                if level(2, is: "status") { return .lockStatus(lockID: id) }
            } else if level(0, is: "poles") {
                if level(2, is: "telemetry") { return .poleTelemetry(poleID: id) }
                if level(2, is: "status") { return .poleStatus(poleID: id) }
            }
            return nil
        case 4 where level(0, is: "gateway") && level(2, is: "operator") && level(3, is: "unlock"):
            return .operatorUnlock(gatewayID: text(1))
        case 6
        where level(0, is: "gateway") && level(2, is: "homeassistant") && level(3, is: "locks")
            && level(5, is: "set"):
            return .homeAssistantSet(gatewayID: text(1), lockID: text(4))
        default:
            return nil
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
