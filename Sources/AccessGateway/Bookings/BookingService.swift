import AccessConfiguration
import AccessProtocol
import AccessStore
import Logging
import MQTT
import ServiceLifecycle

/// Booking messages (`R/bookings`), on an MQTT connection of their own so that no device flood
/// can crowd them out. Each message is applied on that connection's network thread before the
/// next is read: the lane is the connection itself, so nothing is ever dropped for lack of room
/// here (while a message is applied, the next waits in the socket and in the broker's queue for
/// this client). Applied in arrival order, by the version rule (contract, "Bookings").
public final class BookingService: Service, Sendable {
    let context: GatewayContext
    /// Nil in-process (tests hand messages to `apply`).
    let client: MQTTClient?
    /// Set once the feed's subscription is acknowledged: the gateway says it is online only then.
    let readiness = Readiness()

    /// With `connection`, the service reads its own connection made from it; without, messages
    /// come only through `apply` (in-process tests).
    init(context: GatewayContext, connection: MQTTClient.Configuration?) throws {
        self.context = context
        guard var connection else {
            self.client = nil
            return
        }
        let slot = MessageHandlerSlot()
        connection.messageHandler = { slot.deliver($0) }
        self.client = try MQTTClient(configuration: connection, logger: context.logger)
        slot.set { [weak self] message in self?.apply(message) }
    }

    /// Validates and stores one booking message; returns what became of it.
    @discardableResult
    public func apply(_ message: MQTTMessage) -> String {
        let metrics = context.metrics
        let defaults = context.settings.configuration.bookingDefaults
        switch BookingMessage.parse(message.payload, defaults: defaults) {
        case .failure(let error):
            metrics.bookings["rejected"]?.increment()
            context.logger.warning("booking message rejected", metadata: ["reason": "\(error.problem)"])
            return "rejected"
        case .success(let booking):
            do {
                let outcome = try context.store.apply(booking, nowMs: context.nowMs())
                metrics.bookings[outcome.rawValue]?.increment()
                context.logger.debug("booking message", metadata: ["outcome": "\(outcome.rawValue)"])
                return outcome.rawValue
            } catch {
                metrics.bookings["failed"]?.increment()
                context.logger.error("booking message could not be stored", metadata: ["error": "\(error)"])
                return "failed"
            }
        }
    }

    public var isConnected: Bool { client?.isConnected ?? true }

    public func run() async throws {
        guard let client else {
            readiness.markReady()
            try? await gracefulShutdown()
            return
        }
        try client.start()
        await withGracefulShutdownHandler {
            var subscribed = false
            for await state in client.connectionStates() {
                switch state {
                case .connected:
                    context.metrics.bookingsConnected.record(1)
                    context.logger.info("booking feed connected")
                    // Subscribed once connected, so the SUBACK is awaited (the client restores
                    // the subscription after every reconnect); the gateway is online only then.
                    guard !subscribed else { continue }
                    do {
                        try await client.subscribe(context.topics.bookings, qos: .atLeastOnce)
                        subscribed = true
                        readiness.markReady()
                    } catch {
                        context.logger.error(
                            "booking feed subscription refused: the gateway stays offline",
                            metadata: ["error": "\(error)"])
                    }
                case .disconnected(let reason, _):
                    context.metrics.bookingsConnected.record(0)
                    context.logger.warning("booking feed connection lost", metadata: ["reason": "\(reason)"])
                case .shutDown:
                    context.metrics.bookingsConnected.record(0)
                    return
                default:
                    break
                }
            }
        } onGracefulShutdown: {
            Task { await client.shutdown() }
        }
    }
}
