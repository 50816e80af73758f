import AccessConfiguration
import AccessCore
import AccessProtocol
import AccessStore
import Logging
import MQTT
import ServiceLifecycle
import Synchronization

/// Booking messages (`R/bookings`), on an MQTT connection of their own so that no device flood
/// can crowd them out. Each message is applied on that connection's network thread before the
/// next is read: the lane is the connection itself, so nothing is ever dropped for lack of room
/// here (while a message is applied, the next waits in the socket and in the broker's queue for
/// this client). Applied in arrival order, by the version rule (contract, "Bookings").
///
/// (v1.1) The feed's sequence: `appliedSeq` moves with the messages it covers (in the store);
/// a message ahead of it, or a retained head ahead of it, opens a gap, and the service asks the
/// backend for a replay (`BookingFeed`: at once, then after 5 s doubling to 60 s while
/// unanswered). Answers on `R/gateway/<gatewayId>/bookings` are applied by the same rules; only
/// there is a `resync` accepted. While behind, decisions go on from the store and the lag is
/// reported (metrics, `/healthz` "degraded").
public final class BookingService: Service, Sendable {
    let context: GatewayContext
    /// Nil in-process (tests hand messages to `apply`).
    let client: MQTTClient?
    /// Set once the feed's subscription is acknowledged: the gateway says it is online only then.
    let readiness = Readiness()
    let feed: Mutex<BookingFeed>

    /// With `connection`, the service reads its own connection made from it; without, messages
    /// come only through `apply` (in-process tests).
    init(context: GatewayContext, connection: MQTTClient.Configuration?) throws {
        self.context = context
        let position = try context.store.bookingFeedPosition()
        feed = Mutex(
            BookingFeed(
                appliedSeq: position.appliedSeq, highestSeq: position.highestSeq,
                lastMessageMs: position.lastMessageMs))
        guard var connection else {
            self.client = nil
            return
        }
        let slot = MessageHandlerSlot()
        connection.messageHandler = { slot.deliver($0) }
        self.client = try MQTTClient(configuration: connection, logger: context.logger)
        slot.set { [weak self] message in self?.apply(message) }
    }

    /// Takes one message of the booking connection (the feed, its head, or this gateway's replay
    /// answers); returns what became of it.
    @discardableResult
    public func apply(_ message: MQTTMessage) -> String {
        let topics = context.topics
        switch message.topic {
        case topics.bookings:
            return applyFeedMessage(message.payload, allowResync: false)
        case topics.bookingAnswers(gatewayID: context.gatewayID):
            return applyFeedMessage(message.payload, allowResync: true)
        case topics.bookingsHead:
            guard let head = BookingFeedMessages.Head.parse(message.payload) else {
                context.metrics.drop("malformed_booking")
                context.logger.warning("booking feed head rejected: not {\"seq\",\"ts\"}")
                return "rejected"
            }
            let nowMs = context.nowMs()
            perform(feed.withLock { $0.head(seq: head.seq, nowMs: nowMs) })
            return "head"
        default:
            context.metrics.drop("unknown_topic")
            return "rejected"
        }
    }

    private func applyFeedMessage(_ payload: [UInt8], allowResync: Bool) -> String {
        let metrics = context.metrics
        let defaults = context.settings.configuration.bookingDefaults
        switch BookingMessage.parseFeed(payload, defaults: defaults, allowResync: allowResync) {
        case .failure(let error):
            metrics.bookings["rejected"]?.increment()
            context.logger.warning("booking message rejected", metadata: ["reason": "\(error.problem)"])
            return "rejected"
        case .success(let (booking, seq)):
            do {
                let nowMs = context.nowMs()
                let (outcome, position) = try context.store.applyFeed(booking, seq: seq, nowMs: nowMs)
                if context.sharedStore != nil { context.sharedBookingMirror.offer(booking, seq: seq) }
                metrics.bookings[outcome.rawValue]?.increment()
                context.logger.debug(
                    "booking message", metadata: ["outcome": "\(outcome.rawValue)", "seq": "\(seq ?? 0)"])
                if case .resync(let to) = booking {
                    context.logger.notice("booking feed resynchronised", metadata: ["seq": "\(to)"])
                    perform(feed.withLock { $0.resynced(appliedSeq: position.appliedSeq, seq: to, nowMs: nowMs) })
                } else {
                    perform(feed.withLock { $0.applied(appliedSeq: position.appliedSeq, seq: seq, nowMs: nowMs) })
                }
                return outcome.rawValue
            } catch {
                metrics.bookings["failed"]?.increment()
                context.logger.error("booking message could not be stored", metadata: ["error": "\(error)"])
                return "failed"
            }
        }
    }

    /// Asks the backend for what this gateway missed, on the booking connection (the context's
    /// publisher in-process).
    private func perform(_ action: BookingFeed.Action?) {
        guard case .askReplay(let after) = action else { return }
        let request = BookingFeedMessages.ReplayRequest(
            gatewayID: context.gatewayID, after: after, timestampMs: context.nowMs())
        let message = MQTTMessage(topic: context.topics.bookingsReplay, payload: request.payload)
        do {
            try (client.map { $0 as any MessagePublisher } ?? context.publisher).publish(message)
            context.metrics.replayRequests.increment()
            context.logger.notice("booking feed behind: replay asked", metadata: ["after": "\(after)"])
        } catch {
            context.logger.warning("booking replay request not sent", metadata: ["error": "\(error)"])
        }
    }

    /// What `/healthz` and the metrics say of the feed.
    public struct FeedStatus: Sendable, Hashable {
        public var appliedSeq: Int64
        public var lagMessages: Int64
        public var lagSeconds: Int64
        public var lastMessageAgeS: Int64?
        public var isBehind: Bool { lagMessages > 0 }
    }

    public var feedStatus: FeedStatus {
        let nowMs = context.nowMs()
        return feed.withLock {
            FeedStatus(
                appliedSeq: $0.appliedSeq, lagMessages: $0.lagMessages, lagSeconds: $0.lagSeconds(nowMs: nowMs),
                lastMessageAgeS: $0.lastMessageMs.map { max(0, nowMs - $0) / 1000 })
        }
    }

    /// Once a second: repeats an unanswered replay request when due, and refreshes the gauges.
    private func tickLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            let nowMs = context.nowMs()
            perform(feed.withLock { $0.tick(nowMs: nowMs) })
            let status = feedStatus
            context.metrics.bookingFeedAppliedSeq.record(status.appliedSeq)
            context.metrics.bookingFeedLagMessages.record(status.lagMessages)
            context.metrics.bookingFeedLagSeconds.record(status.lagSeconds)
            context.metrics.bookingFeedLastMessageAge.record(status.lastMessageAgeS ?? -1)
        }
    }

    public var isConnected: Bool { client?.isConnected ?? true }

    public func run() async throws {
        guard let client else {
            readiness.markReady()
            await withDiscardingTaskGroup { group in
                group.addTask { await self.tickLoop() }
                try? await gracefulShutdown()
                group.cancelAll()
            }
            return
        }
        let ticks = Task { await self.tickLoop() }
        defer { ticks.cancel() }
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
                        // The head first is not needed: it is retained and comes at every
                        // connect, whenever it is subscribed.
                        for filter in [
                            context.topics.bookings, context.topics.bookingAnswers(gatewayID: context.gatewayID),
                            context.topics.bookingsHead,
                        ] {
                            try await client.subscribe(filter, qos: .atLeastOnce)
                        }
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
