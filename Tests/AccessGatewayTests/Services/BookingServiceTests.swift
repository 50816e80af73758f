import AccessCore
import AccessGateway
import AccessGatewayTesting
import AccessProtocol
import AccessTesting
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
