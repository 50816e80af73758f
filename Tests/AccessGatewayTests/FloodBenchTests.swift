import AccessTesting
import Foundation
import MQTTTesting
import Testing

/// `flood-bench` end to end on a small run (the acceptance run is 30 s per phase at 40,000/s;
/// its figures are in docs/performance.md): every phase holds and the JSON says so.
@Suite struct FloodBenchTests {
    @Test func aSmallFloodKeepsEveryCancelAndRevokeAndTheOtherLockAnswered() async throws {
        let bench = try #require(PackagePaths.executable("flood-bench"), "build the package first")
        let json = FileManager.default.temporaryDirectory.appendingPathComponent("flood-\(UUID()).json").path
        defer { try? FileManager.default.removeItem(atPath: json) }
        let result = try await ExternalTool.captureDetached(
            bench,
            [
                "--seconds", "1", "--rate", "1000", "--cancels", "5", "--revokes", "5", "--order-bursts", "10",
                "--json", json,
            ])
        #expect(result.status == 0, "\(result.standardOutput)\n\(result.standardError)")
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let phases = try #require(document["phases"] as? [[String: Any]])
        #expect(phases.count == 3)
        for phase in phases {
            #expect(phase["holdersDenied"] as? Int == 10, "\(phase)")
            #expect(phase["goodAnswered"] as? Int == phase["goodSent"] as? Int, "\(phase)")
        }
        let order = try #require(document["order"] as? [String: Any])
        #expect(order["inOrder"] as? Int == 10)
    }

    @Test func aBadArgumentIsRefusedWithTheReason() throws {
        let bench = try #require(PackagePaths.executable("flood-bench"), "build the package first")
        let result = try ExternalTool.capture(bench, ["--phases", "storm"])
        #expect(result.status == 64, "\(result.standardError)")
        #expect(result.standardError.contains("storm"), "\(result.standardError)")
    }
}
