import AccessProtocol
import MQTT

/// The floor: the least any responder can do on the same broker, answering each request at
/// QoS 1 with one message (the gateway answers with a decision and a command).
final class FloorEcho: Sendable {
    static let requestTopic = "bench/floor/request"
    static let replyTopic = "bench/floor/reply"
    let client: MQTTClient
    let task: Task<Void, Never>

    private init(client: MQTTClient, task: Task<Void, Never>) {
        self.client = client
        self.task = task
    }

    static func start(_ endpoint: (host: String, port: Int)) async throws -> FloorEcho {
        let client = try MQTTClient(
            configuration: .init(
                host: endpoint.host, port: endpoint.port, clientID: "bench-floor-echo", outboundQueueCapacity: 100_000,
                inboundBufferCapacity: 1_000_000))
        try await client.connect()
        try await client.subscribe(requestTopic, qos: .atLeastOnce)
        let messages = client.messages
        let task = Task {
            for await request in messages {
                try? client.publish(MQTTMessage(topic: replyTopic, payload: request.payload, qos: .atLeastOnce))
            }
        }
        return FloorEcho(client: client, task: task)
    }

    /// The same request a lock sends with a token, so both carry the same bytes.
    var workload: Workload {
        let token = String(repeating: "x", count: 360)
        return Workload(name: "floor", responseFilter: Self.replyTopic) { sequence in
            MQTTMessage(
                topic: Self.requestTopic,
                payload: BenchSite.requestPayload(sequence: sequence, credential: .token(token)))
        }
    }

    func stop() async {
        task.cancel()
        await client.shutdown()
    }
}
