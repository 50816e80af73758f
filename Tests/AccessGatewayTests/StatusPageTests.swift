import AccessProtocol
import AccessTesting
import Foundation
import MQTT
import MQTTTesting
import Testing

/// The status page in a real browser (Debian's chromium, headless) against the real gateway:
/// what it shows, its live updates, and who may see it.
@Suite struct StatusPageTests {
    /// The page's DOM after its scripts ran `seconds` in headless chromium (and a screenshot).
    static func browse(_ url: String, seconds: Double, screenshot: String? = nil) async throws
        -> ExternalTool.Captured
    {
        try await ExternalTool.captureDetached(
            "python3",
            [PackagePaths.root + "/Tests/Support/chromium_dom.py", url, "\(seconds)"] + (screenshot.map { [$0] } ?? []))
    }

    @Test func theBrowserShowsLocksAlarmsDecisionsAndHealthAndTheStreamUpdatesIt() async throws {
        let harness = try await GatewayHarness()
        try await harness.startGateway()
        try await harness.device.publishAcknowledged(
            MQTTMessage(
                topic: harness.topics.status(lockID: "lock-1"), payload: DeviceMessages.status(battery: 64, ts: 1)))
        try await harness.device.publishAcknowledged(
            MQTTMessage(topic: harness.topics.event(lockID: "lock-2"), payload: DeviceMessages.door(open: true, ts: 1)))
        _ = try await harness.request(requestID: "r-page", credential: .pin("12345678"))
        #expect(await eventually { (try? await harness.http("/").body.contains("door_forced")) == true })

        let url = "http://127.0.0.1:\(harness.httpPort)/"
        let screenshot = harness.directory + "/status-page.png"
        let page = try await Self.browse(url, seconds: 3, screenshot: screenshot)
        let dom = page.standardOutput
        #expect(page.status == 0, "\(page.standardError.suffix(2000))")
        // The inline script received the stream's first event and swapped the live part in.
        #expect(dom.contains(#"<span id="stream">live</span>"#), "\(dom)")
        #expect(dom.contains("Open alarms (1)") && dom.contains("door_forced"))
        let lockRow = dom.components(separatedBy: #"<tr id="lock-lock-1">"#).dropFirst().first?.components(
            separatedBy: "</tr>"
        ).first
        #expect(
            lockRow?.hasPrefix(#"<td>lock-1</td><td>room-1</td><td><span class="ok">online</span>"#) == true,
            "\(lockRow ?? dom)")
        #expect(dom.contains("64 %"))
        #expect(dom.contains("invalid_credential"))
        #expect(dom.contains(#"<dd id="audit">seq "#) && dom.contains("chain <span class=\"ok\">intact</span>"))
        #expect(dom.contains("booking feed"))
        #expect(!dom.contains("12345678"))
        #expect(((try? FileManager.default.attributesOfItem(atPath: screenshot)[.size] as? Int) ?? 0) > 10_000)

        // The stream sends the live part again when something changes: the door closes and the
        // alarm is gone from the next event.
        let events = harness.directory + "/events.txt"
        let curl = try ChildProcess(
            executable: "/usr/bin/curl", arguments: ["-s", "-N", "--max-time", "8", url + "events"],
            outputFile: URL(fileURLWithPath: events))
        defer { curl.terminate() }
        let read = { (try? String(contentsOfFile: events, encoding: .utf8)) ?? "" }
        #expect(await eventually { read().contains("event: state") })
        try await harness.device.publishAcknowledged(
            MQTTMessage(topic: harness.topics.event(lockID: "lock-2"), payload: DeviceMessages.door(open: false, ts: 2))
        )
        #expect(await eventually(timeout: .seconds(6)) { read().contains("Open alarms (0)") }, "\(read())")
        await harness.stop()
    }

    @Test func aTokenGuardsThePageAndHealthStaysOpen() async throws {
        let harness = try await GatewayHarness()
        let tokenFile = harness.directory + "/status.token"
        try "s3cret-status-token-0123\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        try await harness.startGateway(environment: ["ACCESS_GATEWAY_HTTP_TOKEN_FILE": tokenFile])
        let base = "http://127.0.0.1:\(harness.httpPort)/"
        func status(_ extra: [String]) async throws -> String {
            try await ExternalTool.captureDetached(
                "curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5"] + extra + [base]
            ).standardOutput
        }
        #expect(try await status([]) == "401")
        #expect(try await status(["-H", "Authorization: Bearer wrong-token-0123456789"]) == "401")
        #expect(try await status(["-H", "Authorization: Bearer s3cret-status-token-0123"]) == "200")
        #expect(try await status(["-u", "ops:s3cret-status-token-0123"]) == "200")
        #expect(try await harness.http("/healthz").status == 200)
        await harness.stop()
    }

    @Test func offLoopbackWithoutATokenThePageIsRefused() async throws {
        let harness = try await GatewayHarness(httpListen: "0.0.0.0:0")
        try await harness.startGateway()
        let port = harness.httpPort
        let page = try await ExternalTool.captureDetached(
            "curl", ["-s", "-w", "\n%{http_code}", "--max-time", "5", "http://127.0.0.1:\(port)/"])
        #expect(page.standardOutput.hasSuffix("403"), "\(page.standardOutput)")
        #expect(page.standardOutput.contains("http.tokenFile"))
        await harness.stop()
    }
}
