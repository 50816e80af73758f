/// What an observer of the client sees of its connection.
public enum MQTTConnectionState: Sendable, Equatable {
    /// Neither `connect()` nor `start()` has been called yet.
    case idle
    /// A connection attempt is under way (1 for the first attempt after a loss).
    case connecting(attempt: Int)
    /// CONNACK accepted; subscriptions are (re)established.
    case connected
    /// The connection failed or was lost; the client retries after `retryInMilliseconds`
    /// (nil when it will not retry, for example after a failed one-shot `connect()`).
    case disconnected(reason: MQTTError, retryInMilliseconds: Int?)
    /// `shutdown()` completed; the client can no longer be used.
    case shutDown
}
