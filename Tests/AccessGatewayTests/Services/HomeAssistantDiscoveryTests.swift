import AccessCore
import AccessGateway
import AccessGatewayTesting
import AccessProtocol
import AccessTesting
import Foundation
import MQTT
import Testing

/// Home Assistant MQTT discovery: every config the gateway publishes uses only the keys Home
/// Assistant documents for its platform (https://www.home-assistant.io/integrations/mqtt/ and
/// binary_sensor.mqtt, sensor.mqtt, lock.mqtt), with the required ones present, and reads its
/// state from a topic the gateway publishes. The lock entity opens through the operator path.
@Suite struct HomeAssistantDiscoveryTests {
    /// Keys every MQTT entity may carry (the discovery page's shared keys), then per platform.
    static let common: Set<String> = [
        "name", "unique_id", "device", "origin", "availability", "availability_mode", "qos", "object_id",
        "default_entity_id", "enabled_by_default", "entity_category", "icon", "json_attributes_topic",
        "json_attributes_template", "availability_topic", "availability_template", "payload_available",
        "payload_not_available", "encoding",
    ]
    static let platforms: [String: (keys: Set<String>, required: Set<String>, deviceClasses: Set<String>)] = [
        "binary_sensor": (
            [
                "state_topic", "value_template", "device_class", "payload_on", "payload_off", "expire_after",
                "force_update", "off_delay",
            ],
            ["state_topic"],
            [
                "battery", "battery_charging", "carbon_monoxide", "cold", "connectivity", "door", "garage_door", "gas",
                "heat", "light", "lock", "moisture", "motion", "moving", "occupancy", "opening", "plug", "power",
                "presence", "problem", "running", "safety", "smoke", "sound", "tamper", "update", "vibration", "window",
            ]
        ),
        "sensor": (
            [
                "state_topic", "value_template", "device_class", "unit_of_measurement", "state_class", "expire_after",
                "force_update", "last_reset_value_template", "suggested_display_precision", "options",
            ],
            ["state_topic"],
            ["battery", "illuminance", "temperature", "humidity", "power", "voltage", "signal_strength"]
        ),
        "lock": (
            [
                "state_topic", "value_template", "command_topic", "command_template", "payload_lock", "payload_unlock",
                "payload_open", "payload_reset", "state_locked", "state_unlocked", "state_locking", "state_unlocking",
                "state_jammed", "state_open", "state_opening", "code_format", "optimistic", "retain",
            ],
            ["command_topic"],
            []
        ),
    ]

    @Test func everyConfigUsesDocumentedKeysAndAPublishedStateTopic() async throws {
        let gateway = try await TestGateway(yaml: "homeAssistant:\n  enabled: true\n  remoteOpen: true")
        let site = gateway.site.site
        let expected = 1 + site.locks.count * 5 + site.poles.count * 4
        let isConfig: @Sendable (MQTTMessage) -> Bool = {
            $0.topic.hasPrefix("homeassistant/") && $0.topic.hasSuffix("/config") && !$0.payload.isEmpty
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while gateway.published.messages.filter(isConfig).count < expected, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        let configs = gateway.published.messages.filter(isConfig)
        #expect(configs.count == expected)
        let statusTopic = gateway.topics.gatewayStatus(gatewayID: "gw-1")
        var uniqueIDs: Set<String> = []
        var components: [String: Int] = [:]
        for message in configs {
            #expect(message.retain, "\(message.topic) not retained")
            let parts = message.topic.split(separator: "/")
            #expect(parts.count == 5, "\(message.topic)")
            let component = String(parts[1])
            components[component, default: 0] += 1
            let json = try #require(TestGateway.json(message.payload), "\(message.topic)")
            let platform = try #require(Self.platforms[component], "undocumented platform \(component)")
            let unknown = Set(json.keys).subtracting(Self.common).subtracting(platform.keys)
            #expect(unknown.isEmpty, "\(message.topic): undocumented keys \(unknown)")
            #expect(platform.required.isSubset(of: Set(json.keys)), "\(message.topic): missing required keys")
            if let deviceClass = json["device_class"] as? String {
                #expect(platform.deviceClasses.contains(deviceClass), "\(message.topic): device_class \(deviceClass)")
            }
            let uniqueID = try #require(json["unique_id"] as? String)
            #expect(uniqueIDs.insert(uniqueID).inserted, "unique_id \(uniqueID) twice")
            let device = try #require(json["device"] as? [String: Any])
            #expect((device["identifiers"] as? [String])?.isEmpty == false)
            // Its state comes from a topic the gateway publishes, retained.
            let stateTopic = try #require(json["state_topic"] as? String)
            #expect(
                stateTopic == statusTopic || stateTopic.hasPrefix("access/site-1/gateway/gw-1/state/"),
                "\(stateTopic)")
            if stateTopic != statusTopic {
                let availability = try #require(json["availability"] as? [[String: Any]])
                #expect(availability.first?["topic"] as? String == statusTopic)
                #expect(
                    await gateway.published.first { $0.topic == stateTopic && $0.retain } != nil,
                    "nothing published on \(stateTopic)")
            }
            if component == "lock" {
                let command = try #require(json["command_topic"] as? String)
                #expect(command.hasPrefix("access/site-1/gateway/gw-1/homeassistant/locks/"))
            }
        }
        #expect(components["lock"] == site.locks.count)
        // The read-only form of each lock, retained from before remoteOpen, is cleared.
        let cleared = gateway.published.messages.filter {
            $0.topic.hasPrefix("homeassistant/binary_sensor/") && $0.topic.hasSuffix("_lock/config")
                && $0.payload.isEmpty
        }
        #expect(cleared.count == site.locks.count && cleared.allSatisfy(\.retain))
        await gateway.stop()
    }

    @Test func theLockEntityOpensThroughTheAuditedOperatorPath() async throws {
        let gateway = try await TestGateway(yaml: "homeAssistant:\n  enabled: true\n  remoteOpen: true")
        let set = gateway.topics.homeAssistantSet(gatewayID: "gw-1", lockID: "lock-1")
        // A retained command, LOCK, garbage and an unknown lock open nothing.
        gateway.receive(set, "UNLOCK", retain: true)
        gateway.receive(set, "LOCK")
        gateway.receive(set, "PLEASE")
        gateway.receive(gateway.topics.homeAssistantSet(gatewayID: "gw-1", lockID: "lock-99"), "UNLOCK")
        gateway.receive(set, "UNLOCK")
        let command = await gateway.published.first { $0.topic == gateway.topics.command(lockID: "lock-1") }
        #expect(command != nil)
        try await Task.sleep(for: .milliseconds(300))
        #expect(gateway.published.messages(on: gateway.topics.command(lockID: "lock-1")).count == 1)
        #expect(gateway.published.messages(on: gateway.topics.command(lockID: "lock-99")).isEmpty)
        await gateway.stop()
        let audited = try gateway.temporary.store.auditRecords(lockID: "lock-1")
        #expect(audited.map(\.record.operatorName) == ["home-assistant"])
        #expect(audited.first?.record.granted == true)
    }

    @Test func withoutRemoteOpenTheLockIsReadOnlyAndItsTopicIgnored() async throws {
        let gateway = try await TestGateway(yaml: "homeAssistant:\n  enabled: true")
        let lockConfig = await gateway.published.first {
            $0.topic.hasPrefix("homeassistant/binary_sensor/") && $0.topic.hasSuffix("lock-1_lock/config")
        }
        #expect(lockConfig?.payloadString?.contains(#""device_class":"lock""#) == true)
        // Only empty payloads there: the lock form, retained from before, is cleared.
        #expect(
            !gateway.published.messages.contains { $0.topic.hasPrefix("homeassistant/lock/") && !$0.payload.isEmpty })
        gateway.receive(gateway.topics.homeAssistantSet(gatewayID: "gw-1", lockID: "lock-1"), "UNLOCK")
        try await Task.sleep(for: .milliseconds(300))
        #expect(gateway.published.messages(on: gateway.topics.command(lockID: "lock-1")).isEmpty)
        await gateway.stop()
    }
}
