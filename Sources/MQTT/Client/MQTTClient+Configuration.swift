extension MQTTClient {
    /// Everything needed to reach a broker. Secrets (password, key files) are never logged.
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// MQTT client identifier; must be unique per broker.
        public var clientID: String
        /// Seconds between keepalive PINGs when idle (libmosquitto requires at least 5).
        public var keepAliveSeconds: Int
        public var username: String?
        public var password: String?
        public var tls: TLS?
        /// Last Will, published by the broker if this client vanishes without DISCONNECT.
        public var will: MQTTMessage?
        /// Disable Nagle's algorithm: without it a QoS 1 round trip costs ~40 ms on loopback.
        public var tcpNoDelay: Bool
        public var reconnectBackoff: ReconnectBackoff
        /// Longest wait for TCP, TLS and CONNACK on one attempt.
        public var connectTimeout: Duration
        /// Longest wait for a SUBACK, UNSUBACK or PUBACK that a caller awaits.
        public var acknowledgementTimeout: Duration
        /// QoS > 0 publishes held while disconnected; beyond this a publish throws.
        public var outboundQueueCapacity: Int
        /// Inbound messages buffered for the consumer of `messages`; beyond this new messages
        /// are dropped and counted in `statistics.inboundDropped`.
        public var inboundBufferCapacity: Int
        /// When set, every inbound message is handed to this closure on the network thread, in
        /// arrival order, instead of to `messages`: the receiver sorts messages into its own
        /// bounded lanes without an intermediate buffer. It must not block for long: while it
        /// runs, this connection reads nothing (the broker queues for it, TCP pushes back).
        public var messageHandler: (@Sendable (MQTTMessage) -> Void)?
        /// MQTT v5 Receive Maximum: QoS 1 and 2 messages the broker may have in flight to this
        /// client before it waits for acknowledgements (1...65535; libmosquitto's default is 20).
        /// A busy subscriber raises it so that the broker's queue for it does not fill and drop.
        public var receiveMaximum: Int
        /// MQTT v5 session persistence: when set, the client connects with Clean Start 0 and
        /// this Session Expiry Interval (seconds), so the broker keeps its subscriptions and
        /// queues QoS 1/2 messages for it while it is away (a gateway restart, a network
        /// break). Nil: a clean session each time.
        public var sessionExpiryInterval: UInt32?
        /// Called on the network thread for each QoS > 0 message this client drops because its
        /// Message Expiry ran out before it could be sent (held while disconnected, or sent but not
        /// acknowledged before the connection dropped): the owner counts them.
        public var expiredHandler: (@Sendable (MQTTMessage) -> Void)?
        /// QoS > 0 publishes handed to libmosquitto and not yet acknowledged. Beyond it (or beyond
        /// the broker's Receive Maximum, when lower) they wait in the outbound queue, bounded by
        /// `outboundQueueCapacity`, where they age like held messages: libmosquitto's own queue
        /// is unbounded and would send a command long after its expiry was set.
        public var maximumInflight: Int = 1000

        public init(
            host: String = "127.0.0.1",
            port: Int = 1883,
            clientID: String,
            keepAliveSeconds: Int = 30,
            username: String? = nil,
            password: String? = nil,
            tls: TLS? = nil,
            will: MQTTMessage? = nil,
            tcpNoDelay: Bool = true,
            reconnectBackoff: ReconnectBackoff = ReconnectBackoff(),
            connectTimeout: Duration = .seconds(10),
            acknowledgementTimeout: Duration = .seconds(10),
            outboundQueueCapacity: Int = 10_000,
            inboundBufferCapacity: Int = 100_000,
            messageHandler: (@Sendable (MQTTMessage) -> Void)? = nil,
            receiveMaximum: Int = 20,
            sessionExpiryInterval: UInt32? = nil
        ) {
            self.host = host
            self.port = port
            self.clientID = clientID
            self.keepAliveSeconds = keepAliveSeconds
            self.username = username
            self.password = password
            self.tls = tls
            self.will = will
            self.tcpNoDelay = tcpNoDelay
            self.reconnectBackoff = reconnectBackoff
            self.connectTimeout = connectTimeout
            self.acknowledgementTimeout = acknowledgementTimeout
            self.outboundQueueCapacity = outboundQueueCapacity
            self.inboundBufferCapacity = inboundBufferCapacity
            self.messageHandler = messageHandler
            self.receiveMaximum = receiveMaximum
            self.sessionExpiryInterval = sessionExpiryInterval
        }
    }

    /// TLS settings. The broker's certificate is always verified against `caFile` and its host
    /// name checked; only TLS 1.2 and newer are offered.
    public struct TLS: Sendable, Hashable {
        public enum MinimumVersion: String, Sendable, Hashable {
            case tls12 = "tlsv1.2"
            case tls13 = "tlsv1.3"
        }

        public var caFile: String
        public var certificateFile: String?
        public var privateKeyFile: String?
        public var minimumVersion: MinimumVersion

        public init(
            caFile: String,
            certificateFile: String? = nil,
            privateKeyFile: String? = nil,
            minimumVersion: MinimumVersion = .tls12
        ) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.privateKeyFile = privateKeyFile
            self.minimumVersion = minimumVersion
        }
    }

    /// Counters an operator can read to see what the client has been doing.
    public struct Statistics: Sendable, Hashable {
        public var connects = 0
        public var connectionFailures = 0
        public var messagesReceived = 0
        public var messagesPublished = 0
        /// Inbound messages dropped because the consumer fell behind `inboundBufferCapacity`.
        public var inboundDropped = 0
        /// Publishes held in the outbound queue: while disconnected, or beyond the in-flight limit.
        public var publishesQueued = 0
        /// QoS > 0 publishes waiting in the outbound queue now (disconnected, or beyond the
        /// in-flight limit).
        public var outboundBacklog = 0
        /// Held publishes dropped because their expiry ran out before a connection came back.
        public var publishesExpiredInQueue = 0
        /// Publishes sent but not acknowledged when the connection dropped, held to be sent again
        /// by this client (never by libmosquitto, which would resend them with their first expiry).
        public var publishesRequeued = 0
        /// Publishes the broker refused in PUBACK/PUBREC (reason code >= 0x80).
        public var publishesRefused = 0
        public var subscriptionsRefused = 0
    }
}
