import Yams

extension GatewayConfiguration {
    /// Every key the gateway reads (config/gateway.example.yaml shows each with its default).
    public static let knownKeys: Set<String> = [
        "gateway.id",
        "site.id", "site.topicPrefix", "site.spaces", "site.locks", "site.poles",
        "issuers",
        "keys.siteKeyFile", "keys.pinKeyFile",
        "broker.host", "broker.port", "broker.clientId", "broker.username", "broker.passwordFile",
        "broker.tls.caFile", "broker.tls.certFile", "broker.tls.keyFile", "broker.keepAliveS", "broker.sharedGroup",
        "broker.bookings.clientId", "broker.bookings.certFile", "broker.bookings.keyFile",
        "broker.bookings.sessionExpiryS",
        "database.path", "database.synchronous", "database.minFreeMB", "database.kind", "database.url",
        "database.passwordFile", "database.caFile",
        "policy.tokenLeewayS", "policy.pinDigits", "policy.failureWindowS", "policy.maxFailures", "policy.lockoutS",
        "policy.maxRequestsPerS", "policy.unlockForS", "policy.commandTTLS", "policy.defaultGraceBeforeMin",
        "policy.defaultGraceAfterMin", "policy.maxQueueMs", "policy.maxRequestAgeS",
        "alarms.maxOpenS", "alarms.offlineAfterS", "alarms.lowBatteryPercent", "alarms.overstayAfterMin",
        "lighting.darknessLux", "lighting.welcomeLevel", "lighting.welcomeForS",
        "http.listen", "http.tokenFile", "homeAssistant.enabled", "homeAssistant.prefix", "homeAssistant.remoteOpen",
        "profiles.zigbeeBaseTopic", "profiles.pinPushAheadMin",
        "log.level",
    ]

    /// The keys of a YAML configuration the gateway does not know, as dotted paths in file order:
    /// a misspelt key would otherwise be ignored silently and its default used.
    static func unknownKeys(inYAML text: String) throws -> [String] {
        guard let root = try Yams.compose(yaml: text) else { return [] }
        var unknown: [String] = []
        func walk(_ node: Node, path: String) {
            guard let mapping = node.mapping else { return }
            for (keyNode, value) in mapping {
                let key = path.isEmpty ? (keyNode.string ?? "?") : path + "." + (keyNode.string ?? "?")
                if knownKeys.contains(key) { continue }
                if knownKeys.contains(where: { $0.hasPrefix(key + ".") }) {
                    walk(value, path: key)
                } else {
                    unknown.append(key)
                }
            }
        }
        walk(root, path: "")
        return unknown
    }
}
