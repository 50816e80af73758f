import AccessProtocol
import MQTT

/// Sorts what arrives on the device connection into the services' lanes, on the connection's
/// network thread, without waiting: it only classifies the topic and offers the message; parsing
/// and every decision happen in the lanes' consumers. A lane that is full drops and counts.
/// (v1.1) A retained request, event or operator message is never acted on.
final class InboundRouter: Sendable {
    let topics: SiteTopics
    let requests: RequestService
    let devices: DeviceReportService
    let operators: OperatorService
    let metrics: GatewayMetrics
    /// This gateway's own retained audit head, read once at start (`AuditHeadCheck`).
    let auditHeadTopic: String
    let auditHeadInbox: AuditHeadInbox

    init(
        topics: SiteTopics, requests: RequestService, devices: DeviceReportService, operators: OperatorService,
        metrics: GatewayMetrics, auditHeadTopic: String, auditHeadInbox: AuditHeadInbox
    ) {
        self.topics = topics
        self.auditHeadTopic = auditHeadTopic
        self.auditHeadInbox = auditHeadInbox
        self.requests = requests
        self.devices = devices
        self.operators = operators
        self.metrics = metrics
    }

    func route(_ message: MQTTMessage) {
        if message.topic == auditHeadTopic {
            return auditHeadInbox.deliver(message.payload)
        }
        guard let inbound = topics.classify(message.topic) else {
            return routeProfile(message)
        }
        switch inbound {
        case .request(let lockID):
            guard !message.retain else { return metrics.drop("retained") }
            requests.offer(message, lockID: lockID)
        case .lockEvent(let lockID):
            guard !message.retain else { return metrics.drop("retained") }
            devices.offerLockEvent(message.payload, lockID: lockID)
        case .lockStatus(let lockID):
            devices.offerLockStatus(message.payload, lockID: lockID)
        case .poleTelemetry(let poleID):
            devices.offerPoleTelemetry(message.payload, poleID: poleID)
        case .poleStatus(let poleID):
            devices.offerPoleStatus(message.payload, poleID: poleID)
        case .operatorUnlock, .homeAssistantSet:
            guard !message.retain else { return metrics.drop("retained") }
            operators.offer(message)
        case .bookings:
            // Booking messages are read on their own connection; this one does not subscribe to them.
            metrics.drop("unknown_topic")
        }
    }

    /// A dialect device's message (device profiles): a code or card read at the door joins its
    /// lock's request lane, anything else the device reports' lane. A retained event is never
    /// acted on. Tasmota's SENSOR carries both a card and the door contact: it goes to both.
    private func routeProfile(_ message: MQTTMessage) {
        guard let route = devices.context.settings.profileRoute(message.topic) else {
            metrics.drop("unknown_topic")
            return
        }
        if route.kind.carriesCredential {
            if message.retain {
                metrics.drop("retained")
            } else {
                requests.offer(message, lockID: route.lockID, profileKind: route.kind)
            }
            if route.kind != .tasmotaSensor { return }
        } else if route.kind.isEvent, message.retain {
            return metrics.drop("retained")
        }
        devices.offerProfileReport(message.payload, lockID: route.lockID, kind: route.kind, retained: message.retain)
    }
}
