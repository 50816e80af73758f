/// Who may publish, receive and subscribe to what on a site broker: the contract's topic tree
/// turned into per-client grants, rendered as mosquitto's dynamic-security configuration.
///
/// Why not `acl_file`: mosquitto 2.0's built-in ACL checks a subscription only when a message is
/// delivered, so a lock could join `$share/<group>/…/locks/+/request` and be handed a share of
/// every lock's requests (which it may not receive, so they went unanswered). The
/// dynamic-security plugin checks the subscription itself and refuses it (SUBACK 0x87). Its 2.0
/// release has no `%u` patterns, hence a role per device, generated from the inventory.
public struct SiteBrokerACL: Sendable {
    public enum Kind: String, Sendable {
        /// The client may publish to the topic (a topic filter: `+` and `#` match).
        case publishClientSend
        /// A message on the topic may be delivered to the client.
        case publishClientReceive
        /// The client may subscribe with a filter no wider than this one.
        case subscribePattern
        /// The client may subscribe with exactly this filter (for `$share/…`, kept literal).
        case subscribeLiteral
    }

    public struct Grant: Sendable, Hashable {
        public var kind: Kind
        public var topic: String

        public init(kind: Kind, topic: String) {
            self.kind = kind
            self.topic = topic
        }
    }

    public struct Role: Sendable {
        public var name: String
        public var grants: [Grant]

        public init(name: String, grants: [Grant]) {
            self.name = name
            self.grants = grants
        }
    }

    /// A client is a user name (a certificate's Common Name) holding one role of its own.
    public struct Client: Sendable {
        public var username: String
        public var role: Role

        public init(username: String, role: Role) {
            self.username = username
            self.role = role
        }
    }

    public var clients: [Client]

    /// - Parameters:
    ///   - gatewayIDs: every gateway of the site (each connects as `access-gateway-<id>` and, for
    ///     the booking feed, `access-gateway-<id>-bookings`).
    ///   - sharedGroup: the `$share` group the gateways read requests through, if any.
    ///   - operators: user names of the operator role (accessctl unlock, dashboards).
    /// Home Assistant's broker user, when discovery is on (`homeAssistant.*` of the gateway).
    public struct HomeAssistant: Sendable {
        public var username: String
        public var prefix: String
        public var remoteOpen: Bool

        public init(username: String, prefix: String, remoteOpen: Bool) {
            self.username = username
            self.prefix = prefix
            self.remoteOpen = remoteOpen
        }
    }

    /// A dialect device of the inventory (device profiles): the device's own client, and the
    /// gateway's grants on its topics. These devices verify no MAC, so these grants are what keeps
    /// anyone else from their relay or bolt.
    public struct ProfileDevice: Sendable, Hashable {
        public var profile: DeviceProfile
        public var device: String

        public init(profile: DeviceProfile, device: String) {
            self.profile = profile
            self.device = device
        }
    }

    public init(
        topics: SiteTopics, lockIDs: [String], poleIDs: [String], gatewayIDs: [String], sharedGroup: String?,
        operators: [String], bookingBackend: String, homeAssistant: HomeAssistant? = nil,
        profileDevices: [ProfileDevice] = [], profileTopics: ProfileTopics = ProfileTopics(),
        zigbeeBridge: String = "zigbee2mqtt"
    ) {
        let root = topics.root
        func read(_ filters: String...) -> [Grant] {
            filters.flatMap {
                [Grant(kind: .publishClientReceive, topic: $0), Grant(kind: .subscribePattern, topic: $0)]
            }
        }
        func write(_ topics: String...) -> [Grant] { topics.map { Grant(kind: .publishClientSend, topic: $0) } }

        var clients: [Client] = []
        for lock in lockIDs.sorted() {
            // Requests, events and its status (also its Last Will) out; its own branch in.
            let grants =
                write(topics.request(lockID: lock), topics.event(lockID: lock), topics.status(lockID: lock))
                + read("\(root)/locks/\(lock)/#")
            clients.append(Client(username: lock, role: Role(name: "lock-\(lock)", grants: grants)))
        }
        for pole in poleIDs.sorted() {
            let grants =
                write(topics.telemetry(poleID: pole), topics.status(poleID: pole)) + read("\(root)/poles/\(pole)/#")
            clients.append(Client(username: pole, role: Role(name: "pole-\(pole)", grants: grants)))
        }
        for gateway in gatewayIDs.sorted() {
            // Every lock's and pole's branch both ways: the gateway alone may send commands.
            var grants =
                write(
                    "\(root)/locks/#", "\(root)/poles/#", topics.alarms, "\(root)/alarms/+",
                    "\(root)/gateway/\(gateway)/#")
                + read("\(root)/locks/#", "\(root)/poles/#", "\(root)/gateway/\(gateway)/#")
            if let homeAssistant { grants += write("\(homeAssistant.prefix)/#") }
            // Dialect devices: their reports in, their commands out, nothing else of theirs.
            for device in profileDevices.sorted(by: {
                ($0.profile.rawValue, $0.device) < ($1.profile.rawValue, $1.device)
            }) {
                for (topic, _) in profileTopics.inbound(device.profile, device: device.device) { grants += read(topic) }
                grants += profileTopics.commandTopics(device.profile, device: device.device).map {
                    Grant(kind: .publishClientSend, topic: $0)
                }
            }
            if let sharedGroup {
                grants.append(Grant(kind: .subscribeLiteral, topic: "$share/\(sharedGroup)/\(topics.requests)"))
            }
            clients.append(
                Client(username: "access-gateway-\(gateway)", role: Role(name: "gateway-\(gateway)", grants: grants)))
            // The booking feed's own connection: the feed, its head, replay requests and answers.
            let feed =
                read(topics.bookings, topics.bookingsHead, topics.bookingAnswers(gatewayID: gateway))
                + write(topics.bookingsReplay)
            clients.append(
                Client(
                    username: "access-gateway-\(gateway)-bookings",
                    role: Role(name: "gateway-\(gateway)-bookings", grants: feed)))
        }
        var zigbee = false
        for device in profileDevices.sorted(by: { ($0.profile.rawValue, $0.device) < ($1.profile.rawValue, $1.device) })
        {
            let name = device.device
            let grants: [Grant]
            switch device.profile {
            case .contract:
                continue
            case .esphomeWiegand:
                // Exactly the topics the gateway reads (anything else the board publishes is refused
                // and dropped by the broker), and its pulse topic in.
                grants =
                    profileTopics.inbound(.esphomeWiegand, device: name).map {
                        Grant(kind: .publishClientSend, topic: $0.topic)
                    } + read(profileTopics.esphomePulse(device: name))
            case .tasmotaWiegand:
                grants = write("tele/\(name)/#", "stat/\(name)/#") + read("cmnd/\(name)/#")
            case .zigbee2mqtt:
                // One bridge serves every Zigbee lock: a client of its own, below.
                zigbee = true
                continue
            case .nuki:
                grants =
                    profileTopics.inbound(.nuki, device: name).map { Grant(kind: .publishClientSend, topic: $0.topic) }
                    + read(profileTopics.nukiLockAction(device: name))
            }
            clients.append(
                Client(username: name, role: Role(name: "\(device.profile.rawValue)-\(name)", grants: grants)))
        }
        if zigbee {
            let base = profileTopics.zigbeeBase
            clients.append(
                Client(
                    username: zigbeeBridge,
                    role: Role(name: "zigbee2mqtt", grants: write("\(base)/#") + read("\(base)/#"))))
        }
        clients.append(
            Client(
                username: bookingBackend,
                role: Role(
                    name: "booking-backend",
                    grants: write(topics.bookings, topics.bookingsHead, "\(root)/gateway/+/bookings")
                        + read(topics.bookingsReplay))))
        // Least privilege: unlock requests and their replies, the site's state; never requests
        // (PINs and tokens in transit), decisions or commands.
        let operatorGrants =
            write("\(root)/gateway/+/operator/unlock")
            + read(
                "\(root)/gateway/+/operator/+", topics.gatewayStatuses, "\(root)/gateway/+/audit", topics.alarms,
                "\(root)/alarms/+", topics.liveStates, topics.lockStatus, topics.lockEvents, topics.poleStatus,
                topics.poleTelemetry, topics.bookingsHead)
        for name in operators.sorted() {
            clients.append(Client(username: name, role: Role(name: "operator-\(name)", grants: operatorGrants)))
        }
        // Home Assistant reads what it shows (discovery, live state, availability); with remote
        // open it may also publish to the gateways' lock set topics, nothing else.
        if let homeAssistant {
            var grants = read(
                "\(homeAssistant.prefix)/#", topics.liveStates, topics.gatewayStatuses, topics.alarms,
                "\(root)/alarms/+")
            if homeAssistant.remoteOpen {
                grants += write("\(root)/gateway/+/homeassistant/locks/+/set")
            }
            clients.append(
                Client(username: homeAssistant.username, role: Role(name: "home-assistant", grants: grants)))
        }
        self.clients = clients
    }

    /// The plugin's configuration file (`plugin_opt_config_file`): every client with its role,
    /// and everything not granted denied (unsubscribing aside, which grants nothing).
    public var dynamicSecurityJSON: String {
        func string(_ text: String) -> String { CanonicalJSON.serialize(.string(text)) }
        var lines = [
            "{",
            #"  "defaultACLAccess": {"publishClientSend": false, "publishClientReceive": false, "subscribe": false, "unsubscribe": true},"#,
            #"  "clients": ["#,
        ]
        lines += clients.enumerated().map { index, client in
            let comma = index == clients.count - 1 ? "" : ","
            return
                #"    {"username": \#(string(client.username)), "roles": [{"rolename": \#(string(client.role.name))}]}"#
                + comma
        }
        lines += ["  ],", #"  "groups": [],"#, #"  "roles": ["#]
        for (index, client) in clients.enumerated() {
            lines.append(#"    {"rolename": \#(string(client.role.name)), "acls": ["#)
            lines += client.role.grants.enumerated().map { grantIndex, grant in
                let comma = grantIndex == client.role.grants.count - 1 ? "" : ","
                return
                    #"      {"acltype": "\#(grant.kind.rawValue)", "topic": \#(string(grant.topic)), "allow": true}"#
                    + comma
            }
            lines.append("    ]}" + (index == clients.count - 1 ? "" : ","))
        }
        lines += ["  ]", "}"]
        return lines.joined(separator: "\n") + "\n"
    }
}
