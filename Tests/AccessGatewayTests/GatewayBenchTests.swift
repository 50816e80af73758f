import AccessTesting
import Foundation
import MQTTTesting
import Testing

/// `gateway-bench` end to end on a tiny run: every request of every workload (the two C floors
/// included) gets its response, and the JSON holds the figures the table prints, each gateway
/// workload against the C ideal gateway and the Swift echo against the C echo.
@Suite struct GatewayBenchTests {
    @Test func aSmallRunMeasuresEveryWorkloadWithNothingLost() async throws {
        let bench = try #require(PackagePaths.executable("gateway-bench"), "build the package first")
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID()).json").path
        defer { try? FileManager.default.removeItem(atPath: json) }
        let result = try await ExternalTool.captureDetached(
            bench,
            [
                "--reservations", "200", "--locks", "20", "--closed", "30", "--rates", "100",
                "--open-seconds", "0.5", "--saturation-seconds", "0.5", "--in-flight", "8", "--verifications", "100",
                // Minting 25,000 tokens (0.5 s at 50,000/s) in a debug build would starve the suite.
                "--unique-tokens", "2000",
                "--json", json,
            ])
        #expect(result.status == 0, "\(result.standardOutput)\n\(result.standardError)")
        #expect(result.standardOutput.contains("× reference"), "\(result.standardOutput)")
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let phases = try #require(document["phases"] as? [[String: Any]])
        #expect(phases.count == 6 * 3, "closed, one rate and saturation for six workloads")
        for phase in phases {
            let sent = phase["sent"] as? Int ?? -1
            let completed = phase["completed"] as? Int ?? -2
            #expect(sent > 0 && sent == completed, "\(phase)")
            let expected: String? =
                switch phase["workload"] as? String {
                case "floor": "c-echo"
                case "c-echo", "ideal": nil
                default: "ideal"
                }
            #expect(phase["reference"] as? String == expected, "\(phase)")
            if phase["workload"] as? String != "floor" {
                #expect(phase["gatewayCPUUsPerRequest"] is Double, "\(phase)")
            }
        }
        #expect((document["gatewayPeakRSSMiB"] as? Double ?? 0) > 1)
        // Ed25519 timed in the run, and a unique token set against a repeated one plus that.
        let ed25519 = try #require(document["ed25519"] as? [String: Any], "\(result.standardOutput)")
        #expect((ed25519["usPerVerification"] as? Double ?? 0) > 0)
        #expect(ed25519["verifications"] as? Int == 100)
        #expect(ed25519["uniqueMinusRepeatedCPUUs"] is Double, "\(ed25519)")
        #expect(result.standardOutput.contains("Ed25519 verification on one core"), "\(result.standardOutput)")
    }

    @Test func aBadArgumentIsRefusedWithTheReason() throws {
        let bench = try #require(PackagePaths.executable("gateway-bench"), "build the package first")
        let result = try ExternalTool.capture(bench, ["--rates", "fast"])
        #expect(result.status == 64, "\(result.standardError)")
        #expect(result.standardError.contains("--rates"), "\(result.standardError)")
    }
}
