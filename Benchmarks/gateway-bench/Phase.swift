/// The figures of one measured phase.
struct Phase: Sendable {
    var mode: String
    var workload: String
    var targetRate: Int?
    var sent: Int
    var completed: Int
    var seconds: Double
    var throughput: Double
    /// Latency percentiles in microseconds: p50, p90, p99, p99.9, max.
    var latencyUs: [String: Double]
    /// The gateway's CPU time (user + system) per completed request during the phase.
    var gatewayCPUUsPerRequest: Double?
    /// The gateway's highest RSS and its store's largest WAL seen while the phase ran (sampled
    /// every second; gateway workloads only).
    var peakRSSMiB: Double?
    var peakWALMiB: Double?

    init(mode: String, workload: String, targetRate: Int?, ledger: Ledger, seconds: Double) {
        self.mode = mode
        self.workload = workload
        self.targetRate = targetRate
        sent = ledger.sent
        completed = ledger.completed
        self.seconds = seconds
        throughput = Double(completed) / max(seconds, 1e-9)
        latencyUs = Self.percentiles(ledger.latencies)
    }

    static let percentileNames: [(String, Double)] = [
        ("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p99.9", 0.999), ("max", 1.0),
    ]

    static func percentiles(_ nanoseconds: [UInt64]) -> [String: Double] {
        guard !nanoseconds.isEmpty else { return [:] }
        let sorted = nanoseconds.sorted()
        var result: [String: Double] = [:]
        for (name, p) in percentileNames {
            let index = min(sorted.count - 1, max(0, Int((Double(sorted.count) * p).rounded(.up)) - 1))
            result[name] = Double(sorted[index]) / 1000
        }
        return result
    }

    /// Requests that never got their response (a denial, a drop, or a timeout).
    var lost: Int { sent - completed }

    var label: String {
        switch mode {
        case "open": "open \(targetRate ?? 0)/s"
        case "saturation": "saturation"
        default: "closed (1 in flight)"
        }
    }

    var json: [String: Any] {
        var object: [String: Any] = [
            "mode": mode, "workload": workload, "sent": sent, "completed": completed, "seconds": seconds,
            "throughputPerS": throughput, "latencyUs": latencyUs,
        ]
        if let targetRate { object["targetRatePerS"] = targetRate }
        if let gatewayCPUUsPerRequest { object["gatewayCPUUsPerRequest"] = gatewayCPUUsPerRequest }
        if let peakRSSMiB { object["peakRSSMiB"] = peakRSSMiB }
        if let peakWALMiB { object["peakWALMiB"] = peakWALMiB }
        return object
    }
}
