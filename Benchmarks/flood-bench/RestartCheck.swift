import Foundation
import MQTTTesting

/// The broker is killed and started again on the same port, `restarts` times, each outage long
/// enough for the gateway's backoff to reach its ceiling: how long after the broker is back does
/// the gateway serve again (`/healthz` 200: both connections up, the store committing)? Issue
/// 15's target: within 1 s, median and max.
struct RestartCheck {
    let restarts: Int
    let outageSeconds: Double
    let site: FloodSite

    struct Result {
        var backMs: [Double] = []

        var median: Double {
            guard !backMs.isEmpty else { return .infinity }
            return backMs.sorted()[backMs.count / 2]
        }

        var maximum: Double { backMs.max() ?? .infinity }
        var passed: Bool { !backMs.isEmpty && maximum <= 1000 }

        var summary: String {
            String(
                format: "restarts: %d, back after median %.0f ms, max %.0f ms (%@) -> %@", backMs.count, median,
                maximum, backMs.map { String(format: "%.0f", $0) }.joined(separator: ", "), passed ? "PASS" : "FAIL")
        }

        var json: [String: Any] { ["backMs": backMs, "medianMs": median, "maxMs": maximum, "passed": passed] }
    }

    func run() async throws -> Result {
        var result = Result()
        let url = "http://127.0.0.1:\(site.probe.port)/healthz"
        func healthy() async -> Bool {
            let answer = try? await ExternalTool.captureDetached(
                "curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "1", url])
            return answer?.standardOutput == "200"
        }
        for _ in 0..<restarts {
            site.broker.kill()
            try await Task.sleep(for: .seconds(outageSeconds))
            try site.broker.restart()
            let back = ContinuousClock.now
            let deadline = back + .seconds(30)
            while ContinuousClock.now < deadline, await !healthy() {
                try await Task.sleep(for: .milliseconds(10))
            }
            result.backMs.append((ContinuousClock.now - back).secondsValue * 1000)
            // Let both connections settle before the next outage.
            try await Task.sleep(for: .milliseconds(500))
        }
        return result
    }
}
