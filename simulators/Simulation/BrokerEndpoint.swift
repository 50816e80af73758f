import MQTT

/// Where a simulator connects, and as whom: a plain loopback broker in the lab, or a site broker
/// with TLS and a certificate (or a user and password) per device, as an installer commissions it.
public struct BrokerEndpoint: Sendable {
    public var host: String
    public var port: Int
    public var tls: MQTTClient.TLS?
    public var username: String?
    public var password: String?

    public init(
        host: String, port: Int, tls: MQTTClient.TLS? = nil, username: String? = nil, password: String? = nil
    ) {
        self.host = host
        self.port = port
        self.tls = tls
        self.username = username
        self.password = password
    }

    public func configuration(clientID: String, keepAliveSeconds: Int = 60) -> MQTTClient.Configuration {
        var configuration = MQTTClient.Configuration(
            host: host, port: port, clientID: clientID, keepAliveSeconds: keepAliveSeconds)
        configuration.tls = tls
        configuration.username = username
        configuration.password = password
        return configuration
    }
}
