import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

/// `/healthz` and `/metrics` on `http.listen`, on Hummingbird 2 (SwiftNIO): connections are served
/// concurrently and an idle one is closed after `idleTimeout`, so a client that sends a byte every
/// second holds its own connection and nothing else; the status page and its stream share it.
///
/// `/healthz`: 200 "ok" when the store can commit and both MQTT connections are up, 200
/// "degraded: …" when it serves but knows it is behind, 503 with the reason otherwise.
/// `/metrics`: Prometheus text. `/`: the status page, and `/events` its live updates
/// (server-sent events); see `StatusPage` and, for who may see it, `StatusPageAccess`.
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
    /// Status pages streaming at once; more get 503 (each holds a connection and a task).
    static let maximumStreams = 16

    /// What the status page shows, and a counter that moves when any of it changed.
    struct StatusSource: Sendable {
        var snapshot: @Sendable () -> StatusPage.Snapshot
        var version: @Sendable () -> Int
        var access: StatusPageAccess
    }

    /// Open status streams, and whether the gateway is stopping (then they end).
    final class Streams: Sendable {
        let open = Atomic<Int>(0)
        let stopping = Atomic<Bool>(false)
    }

    private let streams = Streams()

    let context: GatewayContext
    let host: String
    let port: Int
    private let responder: RouterResponder<BasicRequestContext>

    init(
        context: GatewayContext, host: String, port: Int, health: @escaping @Sendable () -> Health,
        metricsText: @escaping @Sendable () -> [UInt8], status: StatusSource? = nil
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
        self.responder = Self.buildResponder(router, status: status, streams: streams)
    }

    private static func buildResponder(
        _ router: Router<BasicRequestContext>, status: StatusSource?, streams: Streams
    ) -> RouterResponder<BasicRequestContext> {
        guard let status else { return router.buildResponder() }
        @Sendable func denied(_ request: Request) -> Response? {
            switch status.access.check(authorization: request.headers[.authorization]) {
            case .allowed: return nil
            case .unauthorized:
                var response = Self.text(.unauthorized, "a token is required (bearer, or basic auth's password)\n")
                response.headers[.wwwAuthenticate] = "Basic realm=\"access-gateway\", charset=\"UTF-8\""
                return response
            case .loopbackOnly:
                return Self.text(
                    .forbidden, "the status page is served on loopback only unless http.tokenFile is set\n")
            }
        }
        router.get("/") { request, _ -> Response in
            if let denied = denied(request) { return denied }
            return Response(
                status: .ok,
                headers: [
                    .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                    .contentSecurityPolicy:
                        "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'",
                ],
                body: ResponseBody(byteBuffer: ByteBuffer(string: StatusPage.page(status.snapshot()))))
        }
        router.get("/events") { request, _ -> Response in
            if let denied = denied(request) { return denied }
            guard streams.open.add(1, ordering: .relaxed).newValue <= Self.maximumStreams else {
                streams.open.subtract(1, ordering: .relaxed)
                return Self.text(.serviceUnavailable, "too many status pages open\n")
            }
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-store"],
                body: ResponseBody { writer in
                    defer { streams.open.subtract(1, ordering: .relaxed) }
                    var sentVersion = -1
                    var quietTicks = 0
                    // Until the client goes (a write fails) or the gateway stops.
                    while !streams.stopping.load(ordering: .relaxed), !Task.isCancelled {
                        let version = status.version()
                        if version != sentVersion || quietTicks >= 15 {
                            sentVersion = version
                            quietTicks = 0
                            let data = StatusPage.live(status.snapshot())
                            try await writer.write(ByteBuffer(string: "event: state\ndata: \(data)\n\n"))
                        } else {
                            quietTicks += 1
                            // A comment keeps the connection inside the idle timeout.
                            if quietTicks % 2 == 0 { try await writer.write(ByteBuffer(string: ": quiet\n\n")) }
                        }
                        try await Task.sleep(for: .seconds(1))
                    }
                    try await writer.finish(nil)
                })
        }
        return router.buildResponder()
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
        try await withGracefulShutdownHandler {
            do {
                // No signals of its own: Hummingbird's default traps SIGTERM and would stop the
                // endpoint at once, which the gateway's group takes for a service that ended early
                // and cancels everything mid-drain (the endpoint stops in its turn instead).
                try await application.runService(gracefulShutdownSignals: [])
            } catch {
                // Say which setting: the gateway stops (a port in use, an address not on this host).
                context.logger.critical(
                    "http endpoint failed: the gateway stops (check http.listen)",
                    metadata: ["listen": "\(host):\(port)", "error": "\(error)"])
                throw error
            }
        } onGracefulShutdown: { [streams] in
            // Open status pages end, so that the server's own shutdown does not wait on them.
            streams.stopping.store(true, ordering: .relaxed)
        }
    }
}
