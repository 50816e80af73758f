import MQTT

/// Where the gateway's services send what they publish: the device connection in the daemon, a
/// `RecordingPublisher` in the in-process tests (AccessGatewayTesting).
public protocol MessagePublisher: Sendable {
    /// Hands a message on without waiting for the broker (the order of calls is the order on the
    /// wire); throws when it cannot be taken (disconnected QoS 0, a full outbound queue).
    func publish(_ message: MQTTMessage) throws
    /// Publishes and waits for the broker's acknowledgement.
    func publishAcknowledged(_ message: MQTTMessage) async throws
}

extension MQTTClient: MessagePublisher {}
