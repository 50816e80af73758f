import AccessCore
import AccessGateway
import AccessGatewayTesting
import AccessProtocol
import AccessTesting
import Foundation
import MQTT
import Testing

/// The booking service in-process: the version rule, and bad input changes nothing.
@Suite struct BookingServiceTests {
    @Test func aCancelAppliesToTheVeryNextRequest() async throws {
        let gateway = try await TestGateway()
        let booking = RequestServiceTests.activeBooking()
        let token = Credential.token(gateway.site.token(for: booking, jti: "t-1"))
        #expect(gateway.book(.upsert(booking)) == "applied")
        #expect(await gateway.request(requestID: "r-1", credential: token)?["reason"] as? String == "granted")
        #expect(gateway.book(.cancel(reservationID: "b-1", version: 2)) == "applied")
        #expect(await gateway.request(requestID: "r-2", credential: token)?["reason"] as? String == "cancelled")
        // An older upsert arriving late changes nothing.
        #expect(gateway.book(.upsert(booking)) == "ignored_as_older")
        #expect(await gateway.request(requestID: "r-3", credential: token)?["reason"] as? String == "cancelled")
        #expect(gateway.book(.revoke(jti: "t-9")) == "applied")
        await gateway.stop()
    }

    @Test func aMalformedBookingIsRejectedWholeAndChangesNothing() async throws {
        let gateway = try await TestGateway()
        for payload in [#"{"op":"upsert","reservation":{"id":"b/1"}}"#, "not json", #"{"op":"cancel","id":"b-1"}"#] {
            let outcome = gateway.services.bookings.apply(MQTTMessage(topic: gateway.topics.bookings, payload: payload))
            #expect(outcome == "rejected")
        }
        #expect(try gateway.temporary.store.reservationCount() == 0)
        await gateway.stop()
    }
}

/// The booking feed (contract v1.1) in-process: gaps, the head, replay answers, resync, bad seq.
@Suite struct BookingFeedServiceTests {
    static func reservation(_ id: String, version: Int64 = 1) -> Reservation {
        var r = RequestServiceTests.activeBooking(id: id)
        r.version = version
        return r
    }

    func replayRequests(_ gateway: TestGateway) -> [[String: Any]] {
        gateway.published.messages(on: gateway.topics.bookingsReplay).compactMap { TestGateway.json($0.payload) }
    }

    @Test func aGapAsksForAReplayAndTheAnswerClosesIt() async throws {
        let gateway = try await TestGateway()
        #expect(gateway.book(.upsert(Self.reservation("b-1")), seq: 1) == "applied")
        #expect(replayRequests(gateway).isEmpty)
        // seq 2 (a cancel of b-1) is missed; seq 3 arrives.
        #expect(gateway.book(.upsert(Self.reservation("b-3")), seq: 3) == "applied")
        let asks = replayRequests(gateway)
        #expect(asks.count == 1 && asks.first?["after"] as? Int == 1 && asks.first?["gatewayId"] as? String == "gw-1")
        #expect(gateway.services.bookings.feedStatus.lagMessages == 2)
        // The holder of b-1 still gets in from the store while the gap is open...
        let token = Credential.token(gateway.site.token(for: Self.reservation("b-1"), jti: "t-1"))
        #expect(await gateway.request(requestID: "r-1", credential: token)?["reason"] as? String == "granted")
        // ...the replay answer brings the cancel, and the gap closes.
        #expect(gateway.book(.cancel(reservationID: "b-1", version: 2), seq: 2, answer: true) == "applied")
        #expect(gateway.book(.upsert(Self.reservation("b-3")), seq: 3, answer: true) == "ignored_as_older")
        #expect(!gateway.services.bookings.feedStatus.isBehind)
        #expect(gateway.services.bookings.feedStatus.appliedSeq == 3)
        #expect(await gateway.request(requestID: "r-2", credential: token)?["reason"] as? String == "cancelled")
        await gateway.stop()
    }

    @Test func aHeadAheadAsksAndAResyncCountsOnlyOnThisGatewaysAnswerTopic() async throws {
        let gateway = try await TestGateway()
        #expect(gateway.head(5) == "head")
        #expect(replayRequests(gateway).first?["after"] as? Int == 0)
        #expect(gateway.services.bookings.feedStatus.lagMessages == 5)
        // A resync on the shared feed, or on another gateway's answer topic, does nothing.
        #expect(gateway.book(.resync(seq: 5)) == "rejected")
        let other = MQTTMessage(
            topic: gateway.topics.bookingAnswers(gatewayID: "gw-2"), payload: BookingMessage.resync(seq: 5).payload)
        #expect(gateway.services.bookings.apply(other) == "rejected")
        let elsewhere = MQTTMessage(
            topic: gateway.topics.bookingAnswers(gatewayID: "gw-2"),
            payload: BookingMessage.upsert(Self.reservation("b-9")).payload(seq: 1))
        #expect(gateway.services.bookings.apply(elsewhere) == "rejected")
        #expect(try gateway.temporary.store.reservationCount() == 0)
        #expect(gateway.services.bookings.feedStatus.isBehind)
        // The backend's full republication ends in a resync on this gateway's topic.
        #expect(gateway.book(.upsert(Self.reservation("b-4", version: 3)), answer: true) == "applied")
        #expect(gateway.book(.resync(seq: 5), answer: true) == "unchanged")
        #expect(!gateway.services.bookings.feedStatus.isBehind)
        #expect(gateway.services.bookings.feedStatus.appliedSeq == 5)
        await gateway.stop()
    }

    @Test func aSeqThatIsNotAPositiveIntegerRejectsTheMessageWhole() async throws {
        let gateway = try await TestGateway()
        let upsert = BookingMessage.upsert(Self.reservation("b-1")).payload
        for bad in ["0", "-4", "1.5", "\"7\"", "null", "99999999999999999999"] {
            let payload = String(upsert.dropLast()) + ",\"seq\":\(bad)}"
            let outcome = gateway.services.bookings.apply(MQTTMessage(topic: gateway.topics.bookings, payload: payload))
            #expect(outcome == "rejected", "seq \(bad)")
        }
        #expect(try gateway.temporary.store.reservationCount() == 0)
        // A v1 message without seq is still applied, and leaves the position alone.
        #expect(gateway.book(.upsert(Self.reservation("b-1"))) == "applied")
        #expect(gateway.services.bookings.feedStatus.appliedSeq == 0)
        await gateway.stop()
    }
}
