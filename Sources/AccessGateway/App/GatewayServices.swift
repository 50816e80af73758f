import MQTT
import ServiceLifecycle

/// The services that do the gateway's work, each with its own lane, and the router that fills
/// the lanes. The daemon (`GatewayApplication`) adds the MQTT connections, HTTP and systemd;
/// the in-process tests (AccessGatewayTesting) run these alone with a recording publisher.
public final class GatewayServices: Sendable {
    public let context: GatewayContext
    public let bookings: BookingService
    public let maintenance: MaintenanceService
    public let devices: DeviceReportService
    public let operators: OperatorService
    public let requests: RequestService
    public let liveState: LiveStateService
    public let pinPush: PINPushService
    /// With `database.kind: postgres`: the shared database's pool, migrations, probe and mirror.
    public let sharedDatabase: SharedDatabaseService?
    let router: InboundRouter

    /// `bookingConnection`: the booking feed's own MQTT connection (nil in-process, where
    /// booking messages are handed to `bookings.apply`). `stopIntake` runs when a graceful
    /// stop begins, before the request lanes drain.
    public init(
        context: GatewayContext, bookingConnection: MQTTClient.Configuration?,
        stopIntake: @escaping @Sendable () async -> Void = {}
    ) throws {
        self.context = context
        bookings = try BookingService(context: context, connection: bookingConnection)
        let requests = RequestService(context: context, lanes: RequestService.makeLanes(), stopIntake: stopIntake)
        self.requests = requests
        maintenance = MaintenanceService(
            context: context, minuteSweeps: [{ requests.answers.forgetFull(nowMs: $0) }])
        devices = DeviceReportService(context: context)
        operators = OperatorService(context: context)
        liveState = LiveStateService(context: context)
        pinPush = PINPushService(context: context)
        sharedDatabase = context.sharedStore.map {
            SharedDatabaseService(context: context, store: $0, mirror: context.sharedBookingMirror)
        }
        // Alarms still open when the gateway last stopped stay open until they end.
        context.monitor.restore(try context.store.alarms().filter { $0.clearedMs == nil })
        router = InboundRouter(
            topics: context.topics, requests: requests, devices: devices, operators: operators,
            metrics: context.metrics, auditHeadTopic: context.topics.auditHead(gatewayID: context.gatewayID),
            auditHeadInbox: context.auditHeadInbox)
    }

    /// In the order a ServiceGroup starts them (it stops them in reverse: requests first).
    public var all: [any Service] {
        (sharedDatabase.map { [$0] } ?? []) + [bookings, maintenance, liveState, devices, pinPush, operators, requests]
    }

    /// Hands a message to the lanes exactly as the device connection does.
    public func receive(_ message: MQTTMessage) {
        router.route(message)
    }
}
