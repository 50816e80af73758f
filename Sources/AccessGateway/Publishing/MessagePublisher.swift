import Logging
import MQTT

/// Where the gateway's services send what they publish: the device connection in the daemon, a
/// `RecordingPublisher` in the in-process tests (AccessGatewayTesting).
public protocol MessagePublisher: Sendable {
    /// Hands a message on without waiting for the broker (the order of calls is the order on the
    /// wire); throws when it cannot be taken (disconnected QoS 0, a full outbound queue).
    func publish(_ message: MQTTMessage) throws
    /// Publishes and waits for the broker's acknowledgement.
    func publishAcknowledged(_ message: MQTTMessage) async throws
    /// Messages waiting to go out (the connection's outbound queue): above
    /// `OutboundBudget.refusalBacklog`, refusals are withheld so that grants stay prompt.
    var outboundBacklog: Int { get }
}

extension MessagePublisher {
    /// Publishes without waiting; what cannot be taken is counted (`drops`, the `outbound` lane)
    /// and logged at most every 10 s, never thrown at a caller mid-decision.
    func publish(_ message: MQTTMessage, countingDropsIn drops: DropReporter, logger: Logger) {
        do {
            try publish(message)
        } catch MQTTError.outboundQueueFull {
            drops.dropped("outbound queue full")
        } catch MQTTError.notConnected {
            drops.dropped("not connected")
        } catch {
            logger.error("publish failed", metadata: ["topic": "\(message.topic)", "error": "\(error)"])
        }
    }
}

/// Load shedding on the way out: the broker takes the gateway's messages at its own pace, and
/// a flood of refusals queued ahead of a grant would make the grant late. Above this backlog a
/// refusal is withheld (decided, audited, counted in `access_decisions_withheld_total`), while
/// grants, `busy` answers, commands, alarms and status always go.
enum OutboundBudget {
    static let refusalBacklog = 500
    /// Live state (retained dashboard messages, Home Assistant discovery) only goes out while
    /// fewer than this many messages wait: it shares the connection's in-flight window (the
    /// broker's Receive Maximum, 20 for mosquitto) with decisions and commands, and 2,000 states
    /// queued at once ahead of them made grants a second late at 100k locks under load. What
    /// waits is published when the backlog clears; the alarm list always goes.
    static let liveStateBacklog = 100
}

extension MQTTClient: MessagePublisher {
    public var outboundBacklog: Int { statistics.outboundBacklog }
}
