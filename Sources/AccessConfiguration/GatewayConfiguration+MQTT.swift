import AccessProtocol
import Foundation
import MQTT

extension GatewayConfiguration {
    /// The gateway's two connections to the site broker.
    public enum Connection: Sendable {
        /// Requests, device reports and operator unlocks in; decisions, commands, alarms, status
        /// and the audit head out. Carries the gateway's Last Will.
        case devices
        /// The booking feed alone, so that no device flood can crowd it out.
        case bookings
    }

    /// The MQTT client settings of one of the gateway's connections (also used by `accessctl
    /// unlock`, which takes the device connection's and names itself).
    public func mqttConfiguration(for connection: Connection) throws -> MQTTClient.Configuration {
        var password: String?
        if let file = broker.passwordFile {
            do {
                let key = try String(contentsOfFile: file, encoding: .utf8)
                password = key.trimmingCharacters(in: .newlines)
            } catch {
                throw ConfigurationError("broker.passwordFile", "cannot read \(file): \(error.localizedDescription)")
            }
        }
        let topics = SiteTopics(prefix: topicPrefix, siteID: site.id)
        var configuration = MQTTClient.Configuration(
            host: broker.host, port: broker.port, clientID: broker.clientID, keepAliveSeconds: broker.keepAliveS,
            username: broker.username, password: password,
            tls: broker.caFile.map {
                MQTTClient.TLS(
                    caFile: $0, certificateFile: broker.certificateFile, privateKeyFile: broker.privateKeyFile)
            })
        // The broker may have this many QoS 1 messages in flight to the gateway: with its default
        // of 20 a flood fills the broker's queue for the gateway, and the broker then drops
        // other locks' requests with the flood's. The gateway acknowledges on receipt.
        configuration.receiveMaximum = 65535
        // Back within a second of the broker's return: a few fast tries (50, 100, 200, 400 ms),
        // then one every 0.4 to 0.8 s (jittered) while it stays down; a refused TCP connect
        // costs the broker next to nothing.
        configuration.reconnectBackoff = ReconnectBackoff(
            initialDelay: .milliseconds(50), maximumDelay: .milliseconds(800), multiplier: 2, jitter: 0.5)
        configuration.connectTimeout = .seconds(5)
        switch connection {
        case .devices:
            configuration.will = MQTTMessage(
                topic: topics.gatewayStatus(gatewayID: gatewayID),
                payload: GatewayMessages.status(gatewayID: gatewayID, online: false, ts: nil), qos: .atLeastOnce,
                retain: true)
        case .bookings:
            configuration.clientID = broker.bookingsClientID
            // Clean Start 0: what the backend publishes while the gateway is away is queued for it.
            if broker.bookingsSessionExpiryS > 0 {
                configuration.sessionExpiryInterval = UInt32(broker.bookingsSessionExpiryS)
            }
            if let certificate = broker.bookingsCertificateFile, let key = broker.bookingsPrivateKeyFile {
                configuration.tls?.certificateFile = certificate
                configuration.tls?.privateKeyFile = key
            }
        }
        return configuration
    }
}
