import MQTTTesting

/// Reads a running gateway's `/metrics` (with curl, as an operator would) to learn what it has
/// done: booking messages travel on the gateway's own booking connection, so a tester that
/// publishes bookings and then requests waits until the gateway has applied them.
public struct GatewayProbe: Sendable {
    public let port: Int

    public init(port: Int) {
        self.port = port
    }

    /// The value of every sample of `metric` (all label sets) added up; nil when unreachable.
    public func total(_ metric: String) async -> Double? {
        guard
            let result = try? await ExternalTool.captureDetached(
                "curl", ["-s", "--max-time", "2", "http://127.0.0.1:\(port)/metrics"]),
            result.status == 0
        else { return nil }
        var sum = 0.0
        for line in result.standardOutput.split(separator: "\n") where line.hasPrefix(metric) {
            let rest = line.dropFirst(metric.count)
            guard rest.first == "{" || rest.first == " ",
                let value = line.split(separator: " ").last.flatMap({ Double($0) })
            else { continue }
            sum += value
        }
        return sum
    }

    /// Booking messages the gateway has processed (applied, ignored, rejected or failed).
    public func bookingMessages() async -> Int? { await total("access_booking_messages_total").map { Int($0) } }

    /// Waits until the gateway has processed at least `count` booking messages.
    public func waitForBookings(_ count: Int, timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let seen = await bookingMessages(), seen >= count { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}
