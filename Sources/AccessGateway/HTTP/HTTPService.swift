import Logging
import ServiceLifecycle

/// `/healthz` and `/metrics` on `http.listen`: 200 "ok" when both MQTT connections are up and
/// the store takes writes, 200 "degraded: …" when it serves but knows it is behind (the booking
/// feed's lag), 503 with the reason otherwise; Prometheus text for the metrics.
public final class HTTPService: Service, Sendable {
    public enum Health: Sendable, Hashable {
        case ok
        /// Serving, and saying what it knows it lacks.
        case degraded(String)
        /// Not serving as it must (the watchdog stops too).
        case failing(String)
    }

    let context: GatewayContext
    let server: HealthServer

    init(
        context: GatewayContext, host: String, port: Int, health: @escaping @Sendable () -> Health,
        metricsText: @escaping @Sendable () -> [UInt8]
    ) throws {
        self.context = context
        let metrics = context.metrics
        let monitor = context.monitor
        let auditLog = context.auditLog
        server = try HealthServer(host: host, port: port) { path in
            switch path {
            case "/healthz":
                switch health() {
                case .ok: return HealthServer.Response(status: 200, body: "ok\n")
                case .degraded(let why): return HealthServer.Response(status: 200, body: "degraded: \(why)\n")
                case .failing(let why): return HealthServer.Response(status: 503, body: why + "\n")
                }
            case "/metrics":
                let (locks, poles) = monitor.read { ($0.onlineLocks, $0.onlinePoles) }
                metrics.locksOnline.record(locks)
                metrics.polesOnline.record(poles)
                metrics.auditHeadSeq.record(auditLog.head.seq)
                var response = HealthServer.Response(
                    status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: "")
                response.body = metricsText()
                return response
            default:
                return HealthServer.Response(status: 404, body: "not found\n")
            }
        }
    }

    public var port: Int { server.port }

    public func run() async throws {
        server.start()
        context.logger.info("http endpoint listening", metadata: ["port": "\(server.port)"])
        try? await gracefulShutdown()
        server.stop()
    }
}
