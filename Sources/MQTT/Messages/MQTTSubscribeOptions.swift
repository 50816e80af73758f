/// MQTT v5 subscription options besides the QoS (`mosquitto_subscribe_v5`'s `options`).
public struct MQTTSubscribeOptions: OptionSet, Sendable, Hashable {
    public let rawValue: Int32

    public init(rawValue: Int32) {
        self.rawValue = rawValue
    }

    /// Messages this client publishes are not sent back to it.
    public static let noLocal = MQTTSubscribeOptions(rawValue: 0x04)
    /// The retain flag is kept as published (v5 "Retain As Published"), so that the receiver can
    /// see that a message was retained.
    public static let retainAsPublished = MQTTSubscribeOptions(rawValue: 0x08)
    /// Retained messages are sent only when the subscription is new (Retain Handling 1).
    public static let sendRetainedIfNew = MQTTSubscribeOptions(rawValue: 0x10)
    /// Retained messages are never sent at subscribe time (Retain Handling 2): a request left
    /// retained on the broker cannot be acted on again at every restart.
    public static let neverSendRetained = MQTTSubscribeOptions(rawValue: 0x20)
}
