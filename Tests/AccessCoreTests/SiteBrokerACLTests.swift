import AccessProtocol
import Foundation
import Testing

/// The broker rules as data: each device's grants stay inside its own branch, the operator's
/// never reach a request, decision or command, and `$share` is granted to gateways alone.
@Suite struct SiteBrokerACLTests {
    static let topics = SiteTopics(siteID: "site-1")

    static func rules(sharedGroup: String? = "gws") -> SiteBrokerACL {
        SiteBrokerACL(
            topics: topics, lockIDs: ["lock-2", "lock-1"], poleIDs: ["pole-1"], gatewayIDs: ["gw-1", "gw-2"],
            sharedGroup: sharedGroup, operators: ["operator"], bookingBackend: "booking-backend")
    }

    @Test func everyDeviceIsConfinedToItsOwnBranch() {
        for client in Self.rules().clients
        where client.username.hasPrefix("lock-") || client.username.hasPrefix("pole-") {
            let kind = client.username.hasPrefix("lock-") ? "locks" : "poles"
            #expect(!client.role.grants.isEmpty)
            for grant in client.role.grants {
                #expect(
                    grant.topic.hasPrefix("access/site-1/\(kind)/\(client.username)/"), "\(client.username): \(grant)")
            }
        }
    }

    @Test func onlyGatewaysMayJoinTheSharedGroupOrSendCommands() {
        let rules = Self.rules()
        let shared = rules.clients.filter { client in client.role.grants.contains { $0.topic.hasPrefix("$share/") } }
        #expect(shared.map(\.username) == ["access-gateway-gw-1", "access-gateway-gw-2"])
        #expect(shared.allSatisfy { $0.role.grants.contains { $0.kind == .subscribeLiteral } })
        #expect(
            !Self.rules(sharedGroup: nil).clients.contains { client in
                client.role.grants.contains { $0.topic.hasPrefix("$share/") }
            })
        let commandSenders = rules.clients.filter { client in
            client.role.grants.contains { $0.kind == .publishClientSend && $0.topic.hasPrefix("access/site-1/locks/#") }
        }
        #expect(commandSenders.map(\.username) == ["access-gateway-gw-1", "access-gateway-gw-2"])
    }

    @Test func theOperatorNeverSeesCredentialsOrCommands() throws {
        let operatorRole = try #require(Self.rules().clients.first { $0.username == "operator" }).role
        for grant in operatorRole.grants {
            #expect(!grant.topic.hasSuffix("/request") && !grant.topic.hasSuffix("/decision"), "\(grant)")
            #expect(!grant.topic.hasSuffix("/command"), "\(grant)")
            #expect(!grant.topic.hasSuffix("#") || grant.topic.hasSuffix("/gateway/+/state/#"), "\(grant)")
        }
    }

    @Test func theFileIsTheDocumentThePluginReads() throws {
        let rules = Self.rules()
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(rules.dynamicSecurityJSON.utf8)) as? [String: Any])
        let defaults = try #require(document["defaultACLAccess"] as? [String: Bool])
        #expect(
            defaults == [
                "publishClientSend": false, "publishClientReceive": false, "subscribe": false, "unsubscribe": true,
            ])
        let clients = try #require(document["clients"] as? [[String: Any]])
        let roles = try #require(document["roles"] as? [[String: Any]])
        #expect(clients.count == rules.clients.count && roles.count == rules.clients.count)
        #expect(clients.compactMap { $0["username"] as? String }.prefix(2) == ["lock-1", "lock-2"])
        let kinds = Set(
            roles.flatMap { ($0["acls"] as? [[String: Any]] ?? []).compactMap { $0["acltype"] as? String } })
        #expect(kinds == ["publishClientSend", "publishClientReceive", "subscribePattern", "subscribeLiteral"])
    }

    /// Dialect devices verify nothing: only the gateway may write their command topics, and each
    /// device writes and reads only its own.
    @Test func onlyTheGatewayMayCommandADialectDevice() throws {
        let devices = [
            SiteBrokerACL.ProfileDevice(profile: .esphomeWiegand, device: "esp-1"),
            .init(profile: .tasmotaWiegand, device: "tas-1"), .init(profile: .zigbee2mqtt, device: "z-1"),
            .init(profile: .nuki, device: "AB12"),
        ]
        let rules = SiteBrokerACL(
            topics: Self.topics, lockIDs: ["lock-1"], poleIDs: [], gatewayIDs: ["gw-1"], sharedGroup: nil,
            operators: ["operator"], bookingBackend: "booking-backend", profileDevices: devices)
        let commandTopics = ["esp-1/strike/pulse", "cmnd/tas-1/Backlog", "zigbee2mqtt/z-1/set", "nuki/AB12/lockAction"]
        func mayWrite(_ client: SiteBrokerACL.Client, _ topic: String) -> Bool {
            client.role.grants.contains { grant in
                grant.kind == .publishClientSend
                    && (grant.topic == topic
                        || (grant.topic.hasSuffix("/#") && topic.hasPrefix(String(grant.topic.dropLast(1)))))
            }
        }
        for topic in commandTopics {
            let writers = rules.clients.filter { mayWrite($0, topic) }.map(\.username)
            // The Zigbee bridge relays what the gateway sends: it owns its base topic.
            #expect(
                writers == ["access-gateway-gw-1"]
                    || (topic.hasPrefix("zigbee2mqtt/") && writers.sorted() == ["access-gateway-gw-1", "zigbee2mqtt"]),
                "\(topic): \(writers)")
        }
        let tasmota = try #require(rules.clients.first { $0.username == "tas-1" })
        #expect(mayWrite(tasmota, "tele/tas-1/SENSOR") && !mayWrite(tasmota, "tele/esp-1/SENSOR"))
        #expect(!tasmota.role.grants.contains { $0.topic.contains("esp-1") || $0.topic.contains("AB12") })
        let gateway = try #require(rules.clients.first { $0.username == "access-gateway-gw-1" })
        #expect(
            gateway.role.grants.contains { $0.kind == .subscribePattern && $0.topic == "nuki/AB12/commandResponse" })
    }
}
