/// Everything that can go wrong between this process and the broker, as one typed error.
///
/// Each case carries what an operator needs to act on it: the operation, the libmosquitto code
/// and its `mosquitto_strerror` text, and, where libmosquitto logged one (TLS failures), the
/// underlying detail such as OpenSSL's "certificate has expired".
public enum MQTTError: Error, Sendable, Equatable {
    /// A libmosquitto call returned a non-zero `MOSQ_ERR_*` code.
    case library(operation: String, code: Int32, message: String, detail: String?)
    /// The broker answered CONNECT with a failing CONNACK reason code.
    case connectionRefused(reasonCode: Int32, reason: String)
    /// No CONNACK arrived within the configured connect timeout.
    case connectTimedOut(host: String, port: Int, timeoutMilliseconds: Int)
    /// An acknowledgement (SUBACK, UNSUBACK, PUBACK) did not arrive in time.
    case acknowledgementTimedOut(operation: String, timeoutMilliseconds: Int)
    /// The operation needs a live connection and there is none (QoS 0 publishes are not queued).
    case notConnected(operation: String)
    /// A QoS > 0 publish while disconnected found the bounded outbound queue full.
    case outboundQueueFull(capacity: Int)
    /// The broker refused a subscription (SUBACK reason code >= 0x80).
    case subscriptionRefused(filter: String, reasonCode: Int32, reason: String)
    /// The broker refused a publish (PUBACK/PUBREC reason code >= 0x80, e.g. not authorized).
    case publishRefused(topic: String, reasonCode: Int32, reason: String)
    /// A message held while disconnected expired before it could be sent; it was dropped.
    case expiredBeforeSending(topic: String)
    /// The client was shut down; no further operation is possible.
    case shutDown
    /// A caller-supplied value is unusable (empty topic, wildcard in a publish topic, ...).
    case invalidArgument(String)
}

extension MQTTError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .library(let operation, let code, let message, let detail):
            let base = "\(operation) failed: \(message) (MOSQ_ERR \(code))"
            return detail.map { "\(base): \($0)" } ?? base
        case .connectionRefused(let reasonCode, let reason):
            return "broker refused the connection: \(reason) (reason code \(reasonCode))"
        case .connectTimedOut(let host, let port, let timeout):
            return "no connection to \(host):\(port) within \(timeout) ms"
        case .acknowledgementTimedOut(let operation, let timeout):
            return "\(operation): no acknowledgement within \(timeout) ms"
        case .notConnected(let operation):
            return "\(operation): not connected to the broker"
        case .outboundQueueFull(let capacity):
            return "outbound queue full (\(capacity) messages held while disconnected)"
        case .subscriptionRefused(let filter, let reasonCode, let reason):
            return "broker refused subscription to '\(filter)': \(reason) (reason code \(reasonCode))"
        case .publishRefused(let topic, let reasonCode, let reason):
            return "broker refused publish to '\(topic)': \(reason) (reason code \(reasonCode))"
        case .expiredBeforeSending(let topic):
            return "message to '\(topic)' expired while waiting for a connection; dropped"
        case .shutDown:
            return "the MQTT client has been shut down"
        case .invalidArgument(let text):
            return "invalid argument: \(text)"
        }
    }
}
