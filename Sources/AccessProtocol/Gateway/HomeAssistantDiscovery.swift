/// Home Assistant MQTT discovery for the site's devices (`homeAssistant.enabled`): one retained
/// config per entity on `<prefix>/<component>/<node_id>/<object_id>/config`, whose states come
/// from the gateway's live state topics and whose availability is the gateway's status (keys as
/// documented at https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery and on each
/// platform's page: binary_sensor.mqtt, sensor.mqtt, lock.mqtt).
public struct HomeAssistantDiscovery: Sendable {
    public struct Config: Sendable, Hashable {
        public var topic: String
        public var payload: String

        public init(topic: String, payload: String) {
            self.topic = topic
            self.payload = payload
        }
    }

    public let prefix: String
    public let topics: SiteTopics
    public let siteID: String
    public let gatewayID: String
    /// A lock entity that opens the door (through the gateway's audited operator path) instead
    /// of a read-only lock sensor.
    public let remoteOpen: Bool

    public init(prefix: String, topics: SiteTopics, siteID: String, gatewayID: String, remoteOpen: Bool) {
        self.prefix = prefix
        self.topics = topics
        self.siteID = siteID
        self.gatewayID = gatewayID
        self.remoteOpen = remoteOpen
    }

    /// Home Assistant allows `[a-zA-Z0-9_-]` in node and object ids.
    static func slug(_ text: String) -> String {
        String(text.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") ? $0 : "_" })
    }

    var nodeID: String { Self.slug("access-gateway_\(siteID)_\(gatewayID)") }
    var gatewayDeviceID: String { "access-gateway_\(siteID)_\(gatewayID)" }

    private var availability: JSONValue {
        .array([
            .object([
                ("topic", .string(topics.gatewayStatus(gatewayID: gatewayID))),
                ("value_template", .string("{{ 'online' if value_json.online else 'offline' }}")),
            ])
        ])
    }

    private var origin: JSONValue {
        .object([
            ("name", .string("access-gateway")), ("sw_version", .string(BuildInfo.version)),
        ])
    }

    private func device(id: String, name: String, model: String) -> JSONValue {
        .object([
            ("identifiers", .array([.string(id)])), ("name", .string(name)),
            ("manufacturer", .string("access-gateway")),
            ("model", .string(model)), ("via_device", .string(gatewayDeviceID)),
        ])
    }

    private func config(
        component: String, objectID: String, name: String, device: JSONValue, fields: [(String, JSONValue)]
    ) -> Config {
        let object = Self.slug(objectID)
        var all: [(String, JSONValue)] = [
            ("name", .string(name)), ("unique_id", .string("\(nodeID)_\(object)")), ("device", device),
            ("origin", origin), ("availability", availability), ("qos", .integer(1)),
        ]
        all += fields
        return Config(
            topic: "\(prefix)/\(component)/\(nodeID)/\(object)/config", payload: CanonicalJSON.serialize(.object(all)))
    }

    /// The gateway itself: its connectivity, and the device every lock and pole is connected via.
    public var gatewayConfigs: [Config] {
        let device: JSONValue = .object([
            ("identifiers", .array([.string(gatewayDeviceID)])), ("name", .string("Access gateway \(gatewayID)")),
            ("manufacturer", .string("access-gateway")), ("model", .string("access gateway")),
            ("sw_version", .string(BuildInfo.version)),
        ])
        // No availability of its own: it is the availability.
        let object = Self.slug("\(gatewayID)_connectivity")
        let fields: [(String, JSONValue)] = [
            ("name", .string("Connectivity")), ("unique_id", .string("\(nodeID)_\(object)")), ("device", device),
            ("origin", origin), ("device_class", .string("connectivity")),
            ("state_topic", .string(topics.gatewayStatus(gatewayID: gatewayID))),
            ("value_template", .string("{{ 'ON' if value_json.online else 'OFF' }}")), ("qos", .integer(1)),
        ]
        return [
            Config(
                topic: "\(prefix)/binary_sensor/\(nodeID)/\(object)/config",
                payload: CanonicalJSON.serialize(.object(fields)))
        ]
    }

    public func lockConfigs(lockID: String, spaceID: String) -> [Config] {
        let state = topics.lockState(gatewayID: gatewayID, lockID: lockID)
        let device = device(
            id: "access-gateway_\(siteID)_lock_\(lockID)", name: "Door \(lockID) (\(spaceID))", model: "contract lock")
        var configs: [Config] = []
        if remoteOpen {
            configs.append(
                config(
                    component: "lock", objectID: "\(lockID)_lock", name: "Lock", device: device,
                    fields: [
                        ("state_topic", .string(state)),
                        ("command_topic", .string(topics.homeAssistantSet(gatewayID: gatewayID, lockID: lockID))),
                        ("payload_lock", .string("LOCK")), ("payload_unlock", .string("UNLOCK")),
                        ("payload_open", .string("OPEN")), ("state_locked", .string("LOCKED")),
                        ("state_unlocked", .string("UNLOCKED")), ("state_jammed", .string("JAMMED")),
                        (
                            "value_template",
                            .string(
                                "{{ {'unlocked': 'UNLOCKED', 'jammed': 'JAMMED'}.get(value_json.latch, 'LOCKED') }}")
                        ),
                    ]))
        } else {
            // Read-only: on means unlocked (Home Assistant's `lock` device class).
            configs.append(
                config(
                    component: "binary_sensor", objectID: "\(lockID)_lock", name: "Lock", device: device,
                    fields: [
                        ("device_class", .string("lock")), ("state_topic", .string(state)),
                        ("value_template", .string("{{ 'ON' if value_json.latch == 'unlocked' else 'OFF' }}")),
                    ]))
        }
        configs.append(
            config(
                component: "binary_sensor", objectID: "\(lockID)_door", name: "Door", device: device,
                fields: [
                    ("device_class", .string("door")), ("state_topic", .string(state)),
                    ("value_template", .string("{{ 'ON' if value_json.door == 'open' else 'OFF' }}")),
                ]))
        configs.append(
            config(
                component: "sensor", objectID: "\(lockID)_battery", name: "Battery", device: device,
                fields: [
                    ("device_class", .string("battery")), ("unit_of_measurement", .string("%")),
                    ("state_class", .string("measurement")), ("state_topic", .string(state)),
                    ("value_template", .string("{{ value_json.battery if 'battery' in value_json else none }}")),
                ]))
        configs.append(
            config(
                component: "binary_sensor", objectID: "\(lockID)_tamper", name: "Tamper", device: device,
                fields: [
                    ("device_class", .string("tamper")), ("state_topic", .string(state)),
                    (
                        "value_template",
                        .string(
                            "{{ 'ON' if 'tamper' in value_json.alarms or 'door_forced' in value_json.alarms else 'OFF' }}"
                        )
                    ),
                ]))
        configs.append(
            config(
                component: "binary_sensor", objectID: "\(lockID)_problem", name: "Problem", device: device,
                fields: [
                    ("device_class", .string("problem")), ("state_topic", .string(state)),
                    (
                        "value_template",
                        .string(
                            "{{ 'ON' if value_json.alarms | reject('in', ['tamper', 'door_forced']) | list | count > 0 else 'OFF' }}"
                        )
                    ),
                    ("json_attributes_topic", .string(state)),
                    ("json_attributes_template", .string("{{ {'alarms': value_json.alarms} | tojson }}")),
                ]))
        return configs
    }

    public func poleConfigs(poleID: String) -> [Config] {
        let state = topics.poleState(gatewayID: gatewayID, poleID: poleID)
        let device = device(
            id: "access-gateway_\(siteID)_pole_\(poleID)", name: "Light pole \(poleID)", model: "light pole")
        return [
            config(
                component: "sensor", objectID: "\(poleID)_illuminance", name: "Illuminance", device: device,
                fields: [
                    ("device_class", .string("illuminance")), ("unit_of_measurement", .string("lx")),
                    ("state_class", .string("measurement")), ("state_topic", .string(state)),
                    (
                        "value_template",
                        .string("{{ value_json.illuminance if 'illuminance' in value_json else none }}")
                    ),
                ]),
            config(
                component: "binary_sensor", objectID: "\(poleID)_motion", name: "Motion", device: device,
                fields: [
                    ("device_class", .string("motion")), ("state_topic", .string(state)),
                    ("value_template", .string("{{ 'ON' if value_json.motion else 'OFF' }}")),
                ]),
            config(
                component: "sensor", objectID: "\(poleID)_lamp", name: "Lamp level", device: device,
                fields: [
                    ("unit_of_measurement", .string("%")), ("state_class", .string("measurement")),
                    ("state_topic", .string(state)),
                    ("value_template", .string("{{ value_json.lampLevel if 'lampLevel' in value_json else none }}")),
                ]),
            config(
                component: "binary_sensor", objectID: "\(poleID)_problem", name: "Problem", device: device,
                fields: [
                    ("device_class", .string("problem")), ("state_topic", .string(state)),
                    ("value_template", .string("{{ 'ON' if value_json.alarms | count > 0 else 'OFF' }}")),
                ]),
        ]
    }
}
