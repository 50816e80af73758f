import AccessCore
import AccessProtocol
import Testing

@Suite struct ParsingTests {
    @Test func aValidRequestParses() throws {
        let token = try AccessRequest.parse(
            Array(
                #"{"requestId":"r-0001","credential":{"type":"token","value":"a.b.c"},"ts":1763740800000,"x":1}"#.utf8)
        ).get()
        #expect(
            token == AccessRequest(requestID: "r-0001", credential: .token("a.b.c"), timestampMs: 1_763_740_800_000))
        let pin = try AccessRequest.parse(
            Array(#"{"requestId":"r-2","credential":{"type":"pin","value":"0492"}}"#.utf8)
        )
        .get()
        #expect(pin.credential == .pin("0492"))
    }

    @Test(arguments: [
        (#"[1,2]"#, nil as String?),
        (#"not json"#, nil),
        (#"{"credential":{"type":"pin","value":"1234"}}"#, nil),
        (#"{"requestId":"../x","credential":{"type":"pin","value":"1234"}}"#, nil),
        (#"{"requestId":5,"credential":{"type":"pin","value":"1234"}}"#, nil),
        (#"{"requestId":"r-1"}"#, "r-1"),
        (#"{"requestId":"r-1","credential":"1234"}"#, "r-1"),
        (#"{"requestId":"r-1","credential":{"type":"pin","value":"123"}}"#, "r-1"),
        (#"{"requestId":"r-1","credential":{"type":"pin","value":"1234567890123"}}"#, "r-1"),
        (#"{"requestId":"r-1","credential":{"type":"pin","value":"12a4"}}"#, "r-1"),
        (#"{"requestId":"r-1","credential":{"type":"pin","value":1234}}"#, "r-1"),
        (#"{"requestId":"r-1","credential":{"type":"card","value":"1234"}}"#, "r-1"),
        (#"{"requestId":"r-1","credential":{"type":"token","value":""}}"#, "r-1"),
        (#"{"requestId":"r-1","credential":{"type":"pin","value":"1234"},"ts":"now"}"#, "r-1"),
    ])
    func malformedRequestsKeepAValidRequestId(payload: String, requestID: String?) {
        guard case .failure(let malformed) = AccessRequest.parse(Array(payload.utf8)) else {
            Issue.record("accepted \(payload)")
            return
        }
        #expect(malformed.requestID == requestID)
    }

    @Test func oversizedInvalidUTF8AndOverlongTokensAreMalformed() {
        let huge =
            #"{"requestId":"r-1","credential":{"type":"pin","value":"1234"},"pad":""#
            + String(repeating: "x", count: 8200) + #""}"#
        #expect(throws: MalformedRequest.self) { try AccessRequest.parse(Array(huge.utf8)).get() }
        var invalid = Array(#"{"requestId":"r-1","credential":{"type":"pin","value":"1234"}}"#.utf8)
        invalid.insert(0xFF, at: 5)
        #expect(throws: MalformedRequest.self) { try AccessRequest.parse(invalid).get() }
        let longToken =
            #"{"requestId":"r-1","credential":{"type":"token","value":""#
            + String(repeating: "a", count: 4097) + #""}}"#
        #expect(throws: MalformedRequest.self) { try AccessRequest.parse(Array(longToken.utf8)).get() }
    }

    @Test func bookingMessagesParseWithDefaults() throws {
        let upsert = try BookingMessage.parse(
            Array(
                #"{"op":"upsert","reservation":{"id":"b-77","spaceId":"room-3","holder":"u-123","start":"2026-11-21T18:00:00+02:00","end":"2026-11-21T20:00:00+02:00","status":"confirmed","version":3}}"#
                    .utf8)
        ).get()
        #expect(
            upsert
                == .upsert(
                    Reservation(
                        id: "b-77", spaceID: "room-3", holder: "u-123", startMs: 1_795_276_800_000,
                        endMs: 1_795_284_000_000, status: .confirmed, version: 3)))
        #expect(
            try BookingMessage.parse(Array(#"{"op":"cancel","id":"b-77","version":4}"#.utf8)).get()
                == .cancel(reservationID: "b-77", version: 4))
        #expect(
            try BookingMessage.parse(Array(#"{"op":"revoke","jti":"t-5512"}"#.utf8)).get() == .revoke(jti: "t-5512"))
    }

    @Test func siteGraceDefaultsFillOnlyWhatAMessageLeavesOut() throws {
        let defaults = BookingDefaults(graceBeforeMin: 10, graceAfterMin: 5)
        let line =
            #"{"op":"upsert","reservation":{"id":"b-1","spaceId":"s","holder":"h","start":"2026-11-21T18:00:00Z","end":"2026-11-21T20:00:00Z","status":"confirmed","version":1,"graceAfterMin":0}}"#
        guard case .upsert(let reservation) = try BookingMessage.parse(Array(line.utf8), defaults: defaults).get()
        else {
            Issue.record("not an upsert")
            return
        }
        #expect(reservation.graceBeforeS == 600 && reservation.graceAfterS == 0)
    }

    @Test(arguments: [
        #"{"op":"upsert","reservation":{"id":"b-1","spaceId":"s","holder":"h","start":"2026-11-21T20:00:00Z","end":"2026-11-21T18:00:00Z","status":"confirmed","version":1}}"#,
        #"{"op":"upsert","reservation":{"id":"b-1","spaceId":"s","holder":"h","start":"2026-11-21T18:00:00","end":"2026-11-21T20:00:00Z","status":"confirmed","version":1}}"#,
        #"{"op":"upsert","reservation":{"id":"b-1","spaceId":"s","holder":"h","start":"2026-11-21T18:00:00Z","end":"2026-11-21T20:00:00Z","status":"maybe","version":1}}"#,
        #"{"op":"upsert","reservation":{"id":"b/1","spaceId":"s","holder":"h","start":"2026-11-21T18:00:00Z","end":"2026-11-21T20:00:00Z","status":"confirmed","version":1}}"#,
        #"{"op":"upsert","reservation":{"id":"b-1","spaceId":"s","holder":"h","start":"2026-11-21T18:00:00Z","end":"2026-11-21T20:00:00Z","status":"confirmed"}}"#,
        #"{"op":"upsert","reservation":{"id":"b-1","spaceId":"s","holder":"h","start":"2026-11-21T18:00:00Z","end":"2026-11-21T20:00:00Z","status":"confirmed","version":1,"graceBeforeMin":-5}}"#,
        #"{"op":"upsert","reservation":{"id":"b-1","spaceId":"s","holder":"h","start":"2026-02-30T18:00:00Z","end":"2026-11-21T20:00:00Z","status":"confirmed","version":1}}"#,
        #"{"op":"upsert","reservation":{"id":"b-1","spaceId":"s","holder":"h","start":"2026-11-21T18:00:00Z","end":"2026-11-21T20:00:00Z","status":"confirmed","version":1.5}}"#,
        #"{"op":"cancel","id":"b-1"}"#,
        #"{"op":"revoke"}"#,
        #"{"op":"delete","id":"b-1","version":2}"#,
        #"{"reservation":{}}"#,
        #"[]"#,
    ])
    func badBookingMessagesAreRejectedWhole(line: String) {
        #expect(throws: BookingMessageError.self) { try BookingMessage.parse(Array(line.utf8)).get() }
    }

    @Test(arguments: [
        ("1970-01-01T00:00:00Z", 0 as Int64?),
        ("2026-11-21T18:00:00+02:00", 1_795_276_800_000),
        ("2026-11-21T16:00:00.5z", 1_795_276_800_500),
        ("2026-11-21t16:00:00.123456Z", 1_795_276_800_123),
        ("2024-02-29T00:00:00-05:30", 1_709_184_600_000),
        ("2023-02-29T00:00:00Z", nil),
        ("2026-11-21 16:00:00Z", nil),
        ("2026-11-21T16:00:00+0200", nil),
        ("2026-11-21T16:00:00.Z", nil),
        ("2026-11-21T24:00:00Z", nil),
    ])
    func rfc3339(text: String, milliseconds: Int64?) {
        #expect(RFC3339.unixMilliseconds(text) == milliseconds)
    }
}
