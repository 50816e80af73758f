import AccessCore
import AccessProtocol
import Foundation
import Logging
import MQTT
import MQTTTesting
import Synchronization

/// Bursts of pipelined requests from one lock through the real broker and gateway: its decisions,
/// and each grant's command right after its decision, must come back in request order every
/// time (contract v1.1). The lock's reservation is active, so every request is granted.
struct OrderCheck {
    let bursts: Int
    let perBurst: Int
    let site: FloodSite

    struct Result {
        var bursts = 0
        var inOrder = 0
        var requests = 0
        var decided = 0
        var passed: Bool { inOrder == bursts && decided == requests }
        var summary: String {
            "order: \(inOrder)/\(bursts) bursts of pipelined requests in order, \(decided)/\(requests) decided -> "
                + (passed ? "PASS" : "FAIL")
        }
        var json: [String: Any] {
            ["bursts": bursts, "inOrder": inOrder, "requests": requests, "decided": decided, "passed": passed]
        }
    }

    func run() async throws -> Result {
        let lockID = "lock-order"
        let topics = site.topics
        let client = try MQTTClient(
            configuration: .init(port: site.broker.port, clientID: "lock-order"), logger: Logger(label: "order"))
        try await client.connect()
        defer { Task { await client.shutdown() } }
        let seen = Mutex<[(topic: String, requestID: String)]>([])
        let messages = client.messages
        let reader = Task {
            for await message in messages {
                let json = try? JSONSerialization.jsonObject(with: Data(message.payload)) as? [String: Any]
                let requestID = json?["requestId"] as? String ?? "?"
                seen.withLock { $0.append((message.topic, requestID)) }
            }
        }
        defer { reader.cancel() }
        try await client.subscribe(topics.decision(lockID: lockID))
        try await client.subscribe(topics.command(lockID: lockID))
        let token = try site.backend.token(for: site.orderReservation, jti: "t-order")
        var result = Result(bursts: bursts)
        for burst in 0..<bursts {
            seen.withLock { $0.removeAll() }
            let ids = (0..<perBurst).map { "o-\(burst)-\($0)" }
            for id in ids {
                let payload = AccessRequest(
                    requestID: id, credential: .token(token), timestampMs: Int64(Date().timeIntervalSince1970 * 1000)
                ).payload
                try client.publish(MQTTMessage(topic: topics.request(lockID: lockID), payload: payload))
            }
            result.requests += ids.count
            let deadline = ContinuousClock.now + .seconds(10)
            while seen.withLock({ $0.count }) < 2 * ids.count, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(1))
            }
            let arrived = seen.withLock { $0 }
            let decisions = arrived.filter { $0.topic == topics.decision(lockID: lockID) }
            result.decided += decisions.count
            // Decision i, then its command, then decision i+1: the exact interleaving.
            var expected: [String] = []
            for id in ids { expected += ["d:\(id)", "c:\(id)"] }
            let order = arrived.map { item -> String in
                let isDecision = item.topic == topics.decision(lockID: lockID)
                return (isDecision ? "d:" : "c:") + item.requestID
            }
            if order == expected { result.inOrder += 1 }
        }
        return result
    }
}
