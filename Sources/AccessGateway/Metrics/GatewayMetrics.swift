import AccessCore
import AccessProtocol
import Metrics

/// The daemon's metrics (swift-metrics; exported by `/metrics` in Prometheus text format).
/// Handles are made once, not per request; a class, so that a decision takes it without retaining
/// every handle.
final class GatewayMetrics: Sendable {
    let requests: [DecisionReason: Counter]
    /// Refusals decided but not published: beyond the lock's answer budget (a flooding lock), or
    /// behind a congested outbound connection.
    let withheldAnswers: [DecisionReason: Counter]
    let decisionLatency = Timer(label: "access_decision_seconds")
    let auditCommitLatency = Timer(label: "access_audit_commit_seconds")
    let brokerConnected = Gauge(label: "access_broker_connected")
    /// The booking feed's own connection.
    let bookingsConnected = Gauge(label: "access_booking_feed_connected")
    /// (v1.1) The feed: what is applied, how far behind the gateway knows it is, and since when.
    let bookingFeedAppliedSeq = Gauge(label: "access_booking_feed_applied_seq")
    let bookingFeedLagMessages = Gauge(label: "access_booking_feed_lag_messages")
    let bookingFeedLagSeconds = Gauge(label: "access_booking_feed_lag_seconds")
    /// Seconds since the last booking message was applied; -1 before the first.
    let bookingFeedLastMessageAge = Gauge(label: "access_booking_feed_last_message_age_seconds")
    let replayRequests = Counter(label: "access_booking_replay_requests_total")
    /// How long a request waited in its lock's lane before its decision began.
    let laneWait = Timer(label: "access_request_lane_wait_seconds")
    let locksOnline = Gauge(label: "access_devices_online", dimensions: [("kind", "lock")])
    let polesOnline = Gauge(label: "access_devices_online", dimensions: [("kind", "pole")])
    let alarms: [Alarm.Kind: Counter]
    /// Alarms that ended, by `device` (its own report), `operator` (acknowledged).
    let alarmsCleared: [String: Counter] = Dictionary(
        uniqueKeysWithValues: ["device", "operator"].map {
            ($0, Counter(label: "access_alarms_cleared_total", dimensions: [("by", $0)]))
        })
    let dropped: [String: Counter]
    /// Commands dropped because their `notAfter` passed before they could be sent (or sent again
    /// after a reconnect).
    let staleCommands = Counter(label: GatewayMetrics.staleCommandsLabel)
    static let staleCommandsLabel = "access_commands_dropped_stale_total"
    let commandsPublished = Counter(label: "access_commands_published_total")
    let ignoredResponseTopics = Counter(label: "access_response_topics_ignored_total")
    let bookings: [String: Counter]
    let auditHeadSeq = Gauge(label: "access_audit_head_seq")
    /// The store probe: 1 when a commit can be made, 0 when not (see `/healthz` for why).
    let storeHealthy = Gauge(label: "access_store_healthy")
    let storeFreeBytes = Gauge(label: "access_store_free_bytes")
    let walBytes = Gauge(label: "access_store_wal_bytes")
    let walRestarts = Counter(label: "access_store_wal_restarts_total")

    static let dropKinds = [
        "invalid_lock_id", "malformed_event", "malformed_status", "malformed_telemetry", "malformed_booking",
        "malformed_profile",
        "unknown_device", "unknown_topic", "retained", "expired_unsent",
    ]

    init() {
        var requests: [DecisionReason: Counter] = [:]
        for reason in DecisionReason.allCases {
            requests[reason] = Counter(label: "access_requests_total", dimensions: [("reason", reason.rawValue)])
        }
        self.requests = requests
        var withheld: [DecisionReason: Counter] = [:]
        for reason in DecisionReason.allCases where reason != .granted {
            withheld[reason] = Counter(
                label: "access_decisions_withheld_total", dimensions: [("reason", reason.rawValue)])
        }
        self.withheldAnswers = withheld
        var alarms: [Alarm.Kind: Counter] = [:]
        for kind in Alarm.Kind.allCases {
            alarms[kind] = Counter(label: "access_alarms_raised_total", dimensions: [("type", kind.rawValue)])
        }
        self.alarms = alarms
        var dropped: [String: Counter] = [:]
        for kind in Self.dropKinds {
            dropped[kind] = Counter(label: "access_messages_dropped_total", dimensions: [("kind", kind)])
        }
        self.dropped = dropped
        var bookings: [String: Counter] = [:]
        for outcome in ["applied", "ignored_as_older", "unchanged", "rejected", "failed"] {
            bookings[outcome] = Counter(label: "access_booking_messages_total", dimensions: [("outcome", outcome)])
        }
        self.bookings = bookings
    }

    func drop(_ kind: String) {
        dropped[kind]?.increment()
    }
}
