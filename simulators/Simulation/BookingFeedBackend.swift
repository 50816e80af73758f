import AccessCore
import AccessProtocol
import Foundation
import Logging
import MQTT
import Synchronization

/// The booking backend's feed on the wire (contract v1.1): each message gets its `seq` and is
/// made durable (`BookingFeedLog`) before it is published on `R/bookings`, then the head is
/// published retained on `R/bookings/head`; replay requests on `R/bookings/replay` are answered
/// on the asking gateway's `R/gateway/<gatewayId>/bookings`, in order. Used by `booking-sim serve`,
/// the scenario's backend and the tests.
public final class BookingFeedBackend: Sendable {
    public let topics: SiteTopics
    let client: MQTTClient
    private let log: Mutex<BookingFeedLog>
    private let answers = Mutex<Int>(0)
    private let logger: Logger

    public init(
        broker: BrokerEndpoint, siteID: String, prefix: String = SiteTopics.defaultPrefix,
        clientID: String = "booking-backend", feedFile: String?, keep: Int = 100_000,
        logger: Logger = Logger(label: "booking-backend")
    ) throws {
        topics = SiteTopics(prefix: prefix, siteID: siteID)
        log = Mutex(try BookingFeedLog(path: feedFile, keep: keep))
        self.logger = logger
        client = try MQTTClient(
            configuration: broker.configuration(clientID: clientID), logger: logger)
    }

    /// Connects, answers replay requests from now on, and republishes the head (retained) now
    /// and after every reconnect: a broker restarted without persistence has lost it.
    public func start() async throws {
        let states = client.connectionStates()
        try await client.connect()
        Task { [self] in
            var first = true
            for await state in states {
                guard case .connected = state else { continue }
                if first {
                    first = false
                    continue
                }
                try? await self.publishHead()
            }
        }
        let messages = client.messages
        Task { [self] in
            for await message in messages where message.topic == topics.bookingsReplay {
                await self.answer(message.payload)
            }
        }
        try await client.subscribe(topics.bookingsReplay, qos: .atLeastOnce)
        try await publishHead()
    }

    public var headSeq: Int64 { log.withLock { $0.headSeq } }
    /// Replay requests answered so far.
    public var answered: Int { answers.withLock { $0 } }

    /// Appends `message` to the feed (durably), publishes it with its seq, then the head.
    @discardableResult
    public func publish(_ message: BookingMessage) async throws -> Int64 {
        let (seq, payload) = try log.withLock { try $0.append(message) }
        try await client.publishAcknowledged(MQTTMessage(topic: topics.bookings, payload: payload))
        try await publishHead()
        return seq
    }

    /// Appends to the feed without publishing: what a gateway that was away would have missed
    /// if the broker lost it too (the head still says so).
    @discardableResult
    public func record(_ message: BookingMessage) async throws -> Int64 {
        let seq = try log.withLock { try $0.append(message) }.seq
        try await publishHead()
        return seq
    }

    private func publishHead() async throws {
        let head = BookingFeedMessages.Head(seq: headSeq, timestampMs: Int64(Date().timeIntervalSince1970 * 1000))
        guard head.seq > 0 else { return }
        try await client.publishAcknowledged(
            MQTTMessage(topic: topics.bookingsHead, payload: head.payload, retain: true))
    }

    private func answer(_ payload: [UInt8]) async {
        guard let request = BookingFeedMessages.ReplayRequest.parse(payload) else {
            logger.warning("replay request ignored: malformed")
            return
        }
        let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
        let lines = log.withLock { $0.answer(after: request.after, nowMs: nowMs) }
        let topic = topics.bookingAnswers(gatewayID: request.gatewayID)
        do {
            for line in lines { try await client.publishAcknowledged(MQTTMessage(topic: topic, payload: line)) }
            answers.withLock { $0 += 1 }
            logger.info(
                "replay answered",
                metadata: [
                    "gateway": "\(request.gatewayID)", "after": "\(request.after)",
                    "messages": "\(lines.count)",
                ])
        } catch {
            logger.warning("replay answer not sent", metadata: ["error": "\(error)"])
        }
    }

    public func stop() async { await client.shutdown() }
}
