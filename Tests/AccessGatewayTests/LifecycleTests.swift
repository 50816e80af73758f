import Foundation
import MQTTTesting
import Testing

/// Signals in every phase: waiting for the broker, running, draining; `/healthz` from the start.
@Suite struct LifecycleTests {
    @Test(arguments: [SIGTERM, SIGINT])
    func aSignalBeforeTheFirstBrokerConnectionEndsTheGatewayPromptly(signal: Int32) async throws {
        let harness = try await GatewayHarness()
        harness.broker.kill()
        let gateway = try harness.launchGateway()
        // Health answers while the gateway waits for the broker, and says why it is not serving.
        #expect(await eventually(timeout: .seconds(10)) { (try? await harness.http("/healthz").status) == 503 })
        #expect(try await harness.http("/healthz").body.contains("broker"))
        let sent = ContinuousClock.now
        gateway.send(signal)
        #expect(
            await gateway.exited(within: .seconds(10)),
            "still running: \(harness.log().split(separator: "\n").filter { !$0.contains("mqtt.attempt") && !$0.contains("connection down") && !$0.contains("connection lost") }.suffix(40).joined(separator: "\n"))"
        )
        #expect(gateway.exitCode == 0)
        #expect(ContinuousClock.now - sent < .seconds(2))
    }

    /// The HTTP port already taken: the gateway says so, naming the setting, and stops cleanly
    /// (it used to begin a silent shutdown and crash when cancellation timed out).
    @Test func anHTTPPortInUseStopsTheGatewayAndSaysWhy() async throws {
        let squatter = try MosquittoBroker.start()
        defer { squatter.tearDown() }
        let harness = try await GatewayHarness(httpListen: "127.0.0.1:\(squatter.port)")
        let gateway = try harness.launchGateway()
        #expect(await gateway.exited(within: .seconds(20)), "\(harness.log().suffix(2000))")
        #expect(gateway.exitCode == 1, "\(String(describing: gateway.terminationStatus))")
        #expect(harness.log().contains("http endpoint failed"), "\(harness.log().suffix(2000))")
        #expect(harness.log().contains("listen=127.0.0.1:\(squatter.port)"))
        await harness.stop()
    }

    @Test func theGatewayIsBackWithinASecondOfTheBrokersReturn() async throws {
        let harness = try await GatewayHarness()
        try await harness.startGateway()
        harness.broker.kill()
        #expect(await eventually(timeout: .seconds(10)) { (try? await harness.http("/healthz").status) == 503 })
        // Long enough for the backoff to reach its ceiling.
        try await Task.sleep(for: .seconds(3))
        try harness.broker.restart()
        let back = ContinuousClock.now
        #expect(
            await eventually(timeout: .seconds(10)) { (try? await harness.http("/healthz").status) == 200 },
            "gateway log:\n\(harness.log().split(separator: "\n").suffix(30).joined(separator: "\n"))\nbroker log:\n\(harness.broker.log().split(separator: "\n").suffix(20).joined(separator: "\n"))"
        )
        // Generous for a starved CI machine; the figures over ten restarts are in docs/performance.md.
        #expect(ContinuousClock.now - back < .seconds(4))
        await harness.stop()
    }
}

/// A client that sends a byte every 1.5 s holds its own connection and nothing else: `/healthz`
/// and `/metrics` keep answering (they used to share one thread with 2 s reads).
@Suite struct SlowHTTPClientTests {
    @Test func aSlowClientDoesNotWedgeHealthOrMetrics() async throws {
        let harness = try await GatewayHarness()
        try await harness.startGateway()
        let slow = try ChildProcess(
            executable: try #require(ExternalTool.locate("python3")),
            arguments: [
                "-c",
                """
                import socket, sys, time
                clients = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(8)]
                for byte in b"GET /healthz HTTP/1.1\\r\\nHost: x\\r\\n":
                    for c in clients: c.send(bytes([byte]))
                    time.sleep(1.5)
                """,
                String(harness.httpPort),
            ])
        defer { slow.terminate(SIGKILL, grace: .seconds(1)) }
        try await Task.sleep(for: .seconds(1))
        // Each answer within curl's 5 s (the old one-thread server, 2 s per slow read, took 16).
        for _ in 0..<5 {
            let health = try await harness.http("/healthz")
            #expect(health.status == 200, "\(health.body)")
            let metrics = try await harness.http("/metrics")
            #expect(metrics.status == 200 && metrics.body.contains("access_broker_connected"))
            try await Task.sleep(for: .milliseconds(700))
        }
        await harness.stop()
    }
}
