import AccessProtocol
import AccessTesting
import Foundation
import MQTT
import MQTTTesting
import Testing

/// `/metrics` is worth scraping: every family has HELP and TYPE, the build and the process are
/// there, and each lock has its own gauges.
@Suite struct MetricsTests {
    @Test func everyFamilyHasHelpAndTypeWithBuildProcessAndPerLockFigures() async throws {
        let harness = try await GatewayHarness()
        try await harness.startGateway()
        try await harness.device.publishAcknowledged(
            MQTTMessage(
                topic: harness.topics.status(lockID: "lock-1"), payload: DeviceMessages.status(battery: 64, ts: 1)))
        _ = try await harness.request(requestID: "r-metrics", credential: .pin("12345678"))
        var text = ""
        let seen = await eventually(timeout: .seconds(10)) {
            text = (try? await harness.http("/metrics").body) ?? ""
            return text.contains(#"access_lock_battery_percent{lock="lock-1"} 64"#)
        }
        #expect(seen, "\(text)")
        let lines = text.split(separator: "\n").map(String.init)
        let typed = lines.filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] }
        let helped = Set(lines.filter { $0.hasPrefix("# HELP ") }.map { $0.split(separator: " ")[2] })
        #expect(!typed.isEmpty)
        #expect(typed.filter { !helped.contains($0) } == [], "families without HELP")
        #expect(Set(typed).count == typed.count, "a family typed twice")
        #expect(text.contains(#"access_build_info{version="\#(BuildInfo.version)",contract="1.1"} 1"#))
        #expect(text.contains(#"access_lock_online{lock="lock-1"} 1"#))
        #expect(text.contains(#"access_requests_total{reason="#))
        let resident = lines.first { $0.hasPrefix("process_resident_memory_bytes ") }
        #expect((resident?.split(separator: " ").last.flatMap { Int($0) } ?? 0) > 1_000_000)
        #expect(lines.contains { $0.hasPrefix("process_cpu_seconds_total ") })
        // Prometheus's own linter (Debian's prometheus package) finds nothing to say.
        let lint = try await ExternalTool.captureDetached("promtool", ["check", "metrics"], input: text)
        #expect(lint.status == 0 && lint.standardOutput.isEmpty, "\(lint.standardOutput)\(lint.standardError)")

        // The shipped alert rules and dashboard ask only for what a gateway exports.
        let families = Set(typed.map(String.init))
        for file in ["config/prometheus-alerts.yml", "config/grafana-dashboard.json"] {
            let text = try String(contentsOfFile: PackagePaths.root + "/" + file, encoding: .utf8)
            for name in Self.metricNames(in: text) {
                #expect(families.contains(name), "\(file) asks for \(name), which the gateway does not export")
            }
        }
        await harness.stop()
    }

    @Test func theAlertRulesPassPromtool() async throws {
        let check = try await ExternalTool.captureDetached(
            "promtool", ["check", "rules", PackagePaths.root + "/config/prometheus-alerts.yml"])
        #expect(check.status == 0, "\(check.standardOutput)\(check.standardError)")
        #expect(check.standardOutput.contains("SUCCESS"))
    }

    /// `access_…` and `process_…` names in a text, a histogram's series reduced to its family.
    static func metricNames(in text: String) -> Set<String> {
        var names: Set<String> = []
        var current = ""
        func flush() {
            defer { current = "" }
            guard current.hasPrefix("access_") || current.hasPrefix("process_") else { return }
            var name = current
            for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
                name.removeLast(suffix.count)
            }
            names.insert(name)
        }
        for character in text {
            if character.isLetter || character.isNumber || character == "_" {
                current.append(character)
            } else {
                flush()
            }
        }
        flush()
        return names
    }
}
