import Logging
import ServiceLifecycle

/// `/healthz` and `/metrics` on `http.listen`: 200 "ok" when both MQTT connections are up and
/// the store takes writes, 503 with the reason otherwise; Prometheus text for the metrics.
public final class HTTPService: Service, Sendable {
    let context: GatewayContext
    let server: HealthServer

    init(
        context: GatewayContext, host: String, port: Int, health: @escaping @Sendable () -> String?,
        metricsText: @escaping @Sendable () -> [UInt8]
    ) throws {
        self.context = context
        let metrics = context.metrics
        let monitor = context.monitor
        let auditLog = context.auditLog
        server = try HealthServer(host: host, port: port) { path in
            switch path {
            case "/healthz":
                let problem = health()
                return HealthServer.Response(status: problem == nil ? 200 : 503, body: (problem ?? "ok") + "\n")
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
