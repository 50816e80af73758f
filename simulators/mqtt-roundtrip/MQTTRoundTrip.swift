import AccessProtocol
import ArgumentParser
import MQTT
import Simulation

/// Measures request -> reply round trips through a broker with the project's MQTT client:
/// one client answers on `<topic>/reply` what it receives on `<topic>/request`, the other asks,
/// one message in flight at a time. It is the floor any gateway decision sits on.
@main
struct MQTTRoundTrip: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mqtt-roundtrip",
        abstract: "Measure MQTT request/reply round trips through a broker.", version: BuildInfo.versionText)

    @OptionGroup var connection: BrokerOptions
    @Option(help: "Number of round trips.") var count = 1000
    @Option(help: "QoS of requests and replies (0, 1 or 2).") var qos = 1
    @Option(help: "Topic prefix.") var topic = "roundtrip"
    @Flag(help: "Disable TCP_NODELAY to see what Nagle's algorithm costs.") var nagle = false

    func validate() throws {
        guard count > 0 else { throw ValidationError("--count must be positive, got \(count)") }
        guard MQTTQoS(rawValue: Int32(qos)) != nil else { throw ValidationError("--qos must be 0, 1 or 2") }
    }

    func run() async throws {
        let qos = MQTTQoS(rawValue: Int32(qos)) ?? .atLeastOnce
        let endpoint = try connection.endpoint()
        let topic = self.topic
        func configuration(_ id: String) -> MQTTClient.Configuration {
            var configuration = endpoint.configuration(clientID: id)
            configuration.tcpNoDelay = !nagle
            configuration.connectTimeout = .seconds(5)
            return configuration
        }
        let echo = try MQTTClient(configuration: configuration("roundtrip-echo"))
        let asker = try MQTTClient(configuration: configuration("roundtrip-asker"))
        try await echo.connect()
        try await asker.connect()
        try await echo.subscribe("\(topic)/request", qos: qos)
        try await asker.subscribe("\(topic)/reply", qos: qos)
        let echoTask = Task {
            for await request in echo.messages {
                try? echo.publish(MQTTMessage(topic: "\(topic)/reply", payload: request.payload, qos: qos))
            }
        }
        var replies = asker.messages.makeAsyncIterator()
        var samples: [Duration] = []
        samples.reserveCapacity(count)
        let clock = ContinuousClock()
        for index in 0..<count {
            let started = clock.now
            try asker.publish(MQTTMessage(topic: "\(topic)/request", payload: "\(index)", qos: qos))
            guard await replies.next() != nil else { break }
            samples.append(clock.now - started)
        }
        echoTask.cancel()
        await asker.shutdown()
        await echo.shutdown()
        samples.sort()
        func percentile(_ p: Double) -> String {
            guard !samples.isEmpty else { return "-" }
            let index = min(samples.count - 1, Int((Double(samples.count) * p).rounded(.up)) - 1)
            let micros =
                Double(samples[max(0, index)].components.attoseconds) / 1e12
                + Double(samples[max(0, index)].components.seconds) * 1e6
            return "\(Int(micros)) µs"
        }
        print("round trips: \(samples.count) at QoS \(qos.rawValue), TCP_NODELAY \(nagle ? "off" : "on")")
        print("p50 \(percentile(0.5))  p90 \(percentile(0.9))  p99 \(percentile(0.99))  max \(percentile(1.0))")
    }
}
