import Hummingbird
import Logging
import ServiceLifecycle

/// `/healthz` and `/metrics` on `http.listen`, on Hummingbird 2 (SwiftNIO): connections are served
/// concurrently and an idle one is closed after `idleTimeout`, so a client that sends a byte every
/// second holds its own connection and nothing else (the status page of a later issue shares it).
///
/// `/healthz`: 200 "ok" when the store can commit and both MQTT connections are up, 200
/// "degraded: …" when it serves but knows it is behind, 503 with the reason otherwise.
/// `/metrics`: Prometheus text.
public final class HTTPService: Service, Sendable {
    public enum Health: Sendable, Hashable {
        case ok
        /// Serving, and saying what it knows it lacks.
        case degraded(String)
        /// Not serving as it must (the watchdog stops too).
        case failing(String)
    }

    /// An idle connection (nothing read or written) is closed after this many seconds.
    public static let idleTimeoutS: Int64 = 5

    let context: GatewayContext
    let host: String
    let port: Int
    private let responder: RouterResponder<BasicRequestContext>

    init(
        context: GatewayContext, host: String, port: Int, health: @escaping @Sendable () -> Health,
        metricsText: @escaping @Sendable () -> [UInt8]
    ) {
        self.context = context
        self.host = host
        self.port = port
        let metrics = context.metrics
        let monitor = context.monitor
        let auditLog = context.auditLog
        let router = Router()
        router.get("/healthz") { _, _ -> Response in
            switch health() {
            case .ok: return Self.text(.ok, "ok\n")
            case .degraded(let why): return Self.text(.ok, "degraded: \(why)\n")
            case .failing(let why): return Self.text(.serviceUnavailable, why + "\n")
            }
        }
        router.get("/metrics") { _, _ -> Response in
            let (locks, poles) = monitor.read { ($0.onlineLocks, $0.onlinePoles) }
            metrics.locksOnline.record(locks)
            metrics.polesOnline.record(poles)
            metrics.auditHeadSeq.record(auditLog.head.seq)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: metricsText())))
        }
        self.responder = router.buildResponder()
    }

    static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    public func run() async throws {
        var logger = context.logger
        // Hummingbird logs every request at debug; the gateway's own lines say what matters.
        logger.logLevel = max(logger.logLevel, .notice)
        let application = Application(
            responder: responder, server: .http1(configuration: .init(idleTimeout: .seconds(Self.idleTimeoutS))),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "access-gateway"),
            onServerRunning: { [context] channel in
                context.logger.info(
                    "http endpoint listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
            },
            logger: logger)
        try await application.runService()
    }
}
