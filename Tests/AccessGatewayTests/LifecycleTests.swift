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
        #expect(await gateway.exited(within: .seconds(10)), "still running: \(harness.log().suffix(1500))")
        #expect(gateway.exitCode == 0)
        #expect(ContinuousClock.now - sent < .seconds(2))
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
        #expect(await eventually(timeout: .seconds(10)) { (try? await harness.http("/healthz").status) == 200 })
        // Generous for a starved CI machine; the figures over ten restarts are in docs/performance.md.
        #expect(ContinuousClock.now - back < .seconds(4))
        await harness.stop()
    }
}
