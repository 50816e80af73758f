import Foundation
import MQTT
import MQTTTesting
import Testing

/// Reconnects, refusals and errors against a real mosquitto.
@Suite struct ConnectionFailureTests {
    @Test func reconnectsAfterTheBrokerRestartsAndSubscriptionsWorkAgain() async throws {
        try await withMosquittoBroker { broker in
            let subscriber = try await broker.connectedClient("sub")
            let inbox = MessageCollector(subscriber)
            try await subscriber.subscribe("doors/+/event")
            let states = StateRecorder(subscriber)

            broker.kill()
            #expect(await eventually { !subscriber.isConnected })
            try broker.restart()
            #expect(await eventually(timeout: .seconds(10)) { subscriber.isConnected })

            // No call from the test: the subscription came back with the connection.
            let publisher = try await broker.connectedClient("pub")
            let arrived = await eventually(timeout: .seconds(5)) {
                try? await publisher.publishAcknowledged(MQTTMessage(topic: "doors/d-1/event", payload: "open"))
                return inbox.messages.contains { $0.payloadString == "open" }
            }
            #expect(arrived)
            #expect(states.seen.contains { if case .disconnected = $0 { true } else { false } })
            #expect(states.seen.last == .connected)
            #expect(subscriber.statistics.connects == 2)
            await publisher.shutdown()
            await subscriber.shutdown()
        }
    }

    @Test func refusedPortIsATypedErrorNotAHang() async throws {
        let port = try LoopbackPort.free()
        let client = try MQTTClient(
            configuration: .init(host: "127.0.0.1", port: port, clientID: "nobody"), logger: TestLogging.logger("mqtt"))
        let started = ContinuousClock.now
        let error = await #expect(throws: MQTTError.self) { try await client.connect() }
        // Not a hang: far below any TCP or DNS timeout, and generous, because the whole suite's
        // tests share two cores (a CPU-heavy in-process test can hold them for seconds).
        #expect(ContinuousClock.now - started < .seconds(60))
        guard case .library(_, _, let message, _) = error else {
            Issue.record("expected a libmosquitto error, got \(String(describing: error))")
            return
        }
        #expect(message.localizedCaseInsensitiveContains("refused"), "\(message)")
        #expect(client.connectionState == .shutDown)
    }

    @Test func unknownHostIsATypedErrorNotAHang() async throws {
        let client = try MQTTClient(
            configuration: .init(host: "no-such-host.invalid", port: 1883, clientID: "nobody"),
            logger: TestLogging.logger("mqtt"))
        let started = ContinuousClock.now
        let error = await #expect(throws: MQTTError.self) { try await client.connect() }
        #expect(ContinuousClock.now - started < .seconds(60))
        #expect("\(error.map(String.init(describing:)) ?? "")".contains("no-such-host.invalid"))
    }

    @Test func invalidSettingsAreRejectedUpFront() {
        #expect(throws: MQTTError.invalidArgument("port must be 1...65535, got 0")) {
            try MQTTClient(configuration: .init(port: 0, clientID: "x"), logger: TestLogging.logger("mqtt"))
        }
        #expect(throws: MQTTError.invalidArgument("keepAliveSeconds must be at least 5, got 1")) {
            try MQTTClient(configuration: .init(clientID: "x", keepAliveSeconds: 1), logger: TestLogging.logger("mqtt"))
        }
    }

    @Test func passwordsAreCheckedByTheBroker() async throws {
        try await withMosquittoBroker(.init(passwords: ["gateway": "s3cret"])) { broker in
            var good = broker.clientConfiguration(clientID: "gw")
            good.username = "gateway"
            good.password = "s3cret"
            let client = try MQTTClient(configuration: good, logger: TestLogging.logger("mqtt"))
            try await client.connect()
            #expect(client.isConnected)
            await client.shutdown()

            var bad = good
            bad.password = "wrong"
            let refused = try MQTTClient(configuration: bad, logger: TestLogging.logger("mqtt"))
            let error = await #expect(throws: MQTTError.self) { try await refused.connect() }
            guard case .connectionRefused(let code, _) = error else {
                Issue.record("expected a CONNACK refusal, got \(String(describing: error))")
                return
            }
            #expect(code == 134 || code == 135)
        }
    }

    @Test func shutdownLeavesNoNetworkThreadBehind() async throws {
        try await withMosquittoBroker { broker in
            let before = networkThreads()
            var clients: [MQTTClient] = []
            for index in 0..<4 {
                let client = try await broker.connectedClient("leak\(index)")
                clients.append(client)
            }
            #expect(networkThreads() == before + 4)
            for client in clients { await client.shutdown() }
            #expect(networkThreads() == before)
            #expect(clients.allSatisfy { $0.connectionState == .shutDown })
            // Operations after shutdown fail cleanly.
            await #expect(throws: MQTTError.shutDown) { try await clients[0].subscribe("x") }
        }
    }

    /// Network-loop threads of this test's clients (named `mqtt:<client id>`).
    private func networkThreads() -> Int {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.filter { task in
            let name = (try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8)) ?? ""
            return name.hasPrefix("mqtt:leak")
        }.count
    }
}
