import AccessProtocol
import Foundation
import MQTT
import MQTTTesting

/// The two floors in C (issue 20), each a small program of its own on libmosquitto, started for
/// its workload and measured like the gateway:
/// - `c-echo` (c-mqtt-echo): answers each request with one message; what the MQTT client costs
///   at the least, the reference of the Swift echo (`floor`);
/// - `ideal` (c-ideal-gateway): journals each request, syncs once per batch, then publishes a
///   decision and a command; the physical floor of a durable decision, the reference of the
///   gateway's workloads.
final class CFloor: Sendable {
    enum Kind: String, Sendable {
        case echo = "c-echo"
        case idealGateway = "ideal"

        var executable: String { self == .echo ? "c-mqtt-echo" : "c-ideal-gateway" }
    }

    let kind: Kind
    let process: ChildProcess

    private init(kind: Kind, process: ChildProcess) {
        self.kind = kind
        self.process = process
    }

    /// Starts the program beside this binary and waits for its "ready" (subscribed).
    static func start(_ kind: Kind, endpoint: (host: String, port: Int), directory: String) async throws -> CFloor {
        let log = directory + "/\(kind.executable).log"
        var arguments = [endpoint.host, "\(endpoint.port)"]
        if kind == .idealGateway { arguments.append(directory + "/ideal-journal") }
        let process = try ChildProcess(
            executable: try GatewayBench.sibling(kind.executable), arguments: arguments,
            outputFile: URL(fileURLWithPath: log))
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if text.contains("ready") { return CFloor(kind: kind, process: process) }
            guard process.isRunning else { throw BenchError("\(kind.executable) exited: \(text.suffix(500))") }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.terminate(SIGKILL, grace: .seconds(1))
        throw BenchError("\(kind.executable) did not subscribe within 10 s")
    }

    /// The same request bytes as the floor's (a token request), on the program's topics; the
    /// ideal gateway gets one topic per lock, as the gateway does.
    func workload(locks: Int) -> Workload {
        let token = String(repeating: "x", count: 360)
        switch kind {
        case .echo:
            return Workload(name: kind.rawValue, responseFilter: "bench/c-echo/reply") { sequence in
                MQTTMessage(
                    topic: "bench/c-echo/request",
                    payload: BenchSite.requestPayload(sequence: sequence, credential: .token(token)))
            }
        case .idealGateway:
            return Workload(name: kind.rawValue, responseFilter: "bench/ideal/+/command") { sequence in
                MQTTMessage(
                    topic: "bench/ideal/l-\(sequence % max(1, locks))/request",
                    payload: BenchSite.requestPayload(sequence: sequence, credential: .token(token)))
            }
        }
    }

    func stop() async {
        await process.terminated(SIGTERM, grace: .seconds(2))
    }
}
