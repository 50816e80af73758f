/// One MQTT v5 user property (a name/value pair; names may repeat).
public struct MQTTUserProperty: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// The MQTT v5 PUBLISH properties this project uses, the same for outbound and inbound messages.
public struct MQTTPublishProperties: Sendable, Hashable {
    /// Seconds the broker keeps the message before discarding it (also for retained messages).
    public var messageExpiryInterval: UInt32?
    /// Where a responder should publish its answer (request/response pattern).
    public var responseTopic: String?
    /// Opaque bytes the responder echoes so the requester can match the answer.
    public var correlationData: [UInt8]?
    public var contentType: String?
    public var userProperties: [MQTTUserProperty]

    public init(
        messageExpiryInterval: UInt32? = nil,
        responseTopic: String? = nil,
        correlationData: [UInt8]? = nil,
        contentType: String? = nil,
        userProperties: [MQTTUserProperty] = []
    ) {
        self.messageExpiryInterval = messageExpiryInterval
        self.responseTopic = responseTopic
        self.correlationData = correlationData
        self.contentType = contentType
        self.userProperties = userProperties
    }

    public var isEmpty: Bool {
        messageExpiryInterval == nil && responseTopic == nil && correlationData == nil
            && contentType == nil && userProperties.isEmpty
    }
}
