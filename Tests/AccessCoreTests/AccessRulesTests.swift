import AccessCore
import AccessProtocol
import AccessTesting
import Testing

/// The contract's order of checks for tokens and PINs, one row per reason and per boundary.
@Suite struct AccessRulesTests {
    static let startMs: Int64 = 1_763_740_800_000
    static let endMs: Int64 = startMs + 2 * 3_600_000
    static let reservation = Reservation(
        id: "b-77", spaceID: "room-1", holder: "u-123", startMs: startMs, endMs: endMs, version: 3,
        graceBeforeS: 600, graceAfterS: 300)
    static let lock = Lock(id: "lock-1", spaceID: "room-1")
    static let claims = BookingTokenClaims(
        issuer: "https://booking.example", holder: "u-123", reservationID: "b-77", spaceID: "room-1",
        issuedAtS: Double(startMs / 1000 - 600), notBeforeS: Double(startMs / 1000 - 600),
        expiresS: Double(endMs / 1000 + 300), jti: "t-1")

    struct TokenCase: CustomTestStringConvertible, Sendable {
        var name: String
        var nowMs: Int64
        var claims = AccessRulesTests.claims
        var facts = TokenFacts(reservation: AccessRulesTests.reservation)
        var expected: DecisionReason
        var testDescription: String { name }
    }

    static let nbfMs = Int64(claims.notBeforeS) * 1000
    static let expMs = Int64(claims.expiresS) * 1000
    static let windowStart = startMs - 600_000
    static let windowEnd = endMs + 300_000

    static let tokenCases: [TokenCase] = {
        var cases: [TokenCase] = [
            TokenCase(name: "granted inside the window", nowMs: startMs, expected: .granted),
            TokenCase(
                name: "revoked jti comes before time checks", nowMs: 0,
                facts: TokenFacts(jtiRevoked: true, reservation: reservation), expected: .revoked),
            // Leeway (60 s) on nbf and exp, one second either side.
            TokenCase(name: "nbf - leeway - 1 s", nowMs: nbfMs - 61_000, expected: .notYetValid),
            TokenCase(name: "nbf - leeway - 1 ms", nowMs: nbfMs - 60_001, expected: .notYetValid),
            TokenCase(name: "exp + leeway + 1 ms", nowMs: expMs + 60_001, expected: .expired),
            TokenCase(name: "exp + leeway + 1 s", nowMs: expMs + 61_000, expected: .expired),
            TokenCase(
                name: "token for another space", nowMs: startMs,
                claims: with(claims) { $0.spaceID = "room-2" }, expected: .wrongSpace),
            TokenCase(
                name: "reservation not in the store", nowMs: startMs, facts: TokenFacts(),
                expected: .unknownReservation),
            TokenCase(
                name: "a cancel tombstone for the rid", nowMs: startMs,
                facts: TokenFacts(reservationTombstoned: true), expected: .cancelled),
            TokenCase(
                name: "reservation of another space", nowMs: startMs,
                facts: TokenFacts(reservation: with(reservation) { $0.spaceID = "room-2" }), expected: .wrongSpace),
            TokenCase(
                name: "holder mismatch", nowMs: startMs, claims: with(claims) { $0.holder = "u-999" },
                expected: .holderMismatch),
            TokenCase(
                name: "cancelled reservation", nowMs: startMs,
                facts: TokenFacts(reservation: with(reservation) { $0.status = .cancelled }), expected: .cancelled),
            TokenCase(
                name: "single use, already spent", nowMs: startMs,
                facts: TokenFacts(
                    reservation: with(reservation) {
                        $0.singleUse = true; $0.spent = true
                    }),
                expected: .alreadyUsed),
            TokenCase(
                name: "single use, not yet spent", nowMs: startMs,
                facts: TokenFacts(reservation: with(reservation) { $0.singleUse = true }), expected: .granted),
        ]
        // A token valid for a whole day, so the reservation's own window (with grace) decides.
        let wide = with(claims) {
            $0.notBeforeS = Double(startMs / 1000 - 86_400)
            $0.expiresS = Double(endMs / 1000 + 86_400)
        }
        for (name, now, reason) in [
            ("start - grace - 1 s", windowStart - 1000, DecisionReason.notYetValid),
            ("start - grace - 1 ms", windowStart - 1, .notYetValid),
            ("start - grace exactly", windowStart, .granted),
            ("start - grace + 1 s", windowStart + 1000, .granted),
            ("end + grace - 1 s", windowEnd - 1000, .granted),
            ("end + grace exactly", windowEnd, .granted),
            ("end + grace + 1 ms", windowEnd + 1, .expired),
            ("end + grace + 1 s", windowEnd + 1000, .expired),
        ] {
            cases.append(TokenCase(name: "reservation window: \(name)", nowMs: now, claims: wide, expected: reason))
        }
        // The token's own window, inside leeway.
        let narrow = with(claims) {
            $0.notBeforeS = Double(startMs / 1000)
            $0.expiresS = Double(startMs / 1000 + 600)
        }
        for (name, now, reason) in [
            ("nbf - leeway exactly", startMs - 60_000, DecisionReason.granted),
            ("nbf - leeway + 1 s", startMs - 59_000, .granted),
            ("exp + leeway exactly", startMs + 660_000, .granted),
            ("exp + leeway - 1 s", startMs + 659_000, .granted),
            ("exp + leeway + 1 s", startMs + 661_000, .expired),
        ] {
            cases.append(TokenCase(name: "token window: \(name)", nowMs: now, claims: narrow, expected: reason))
        }
        return cases
    }()

    @Test(arguments: tokenCases)
    func token(_ row: TokenCase) {
        let outcome = AccessRules.evaluateToken(
            row.claims, lock: Self.lock, facts: row.facts, nowMs: row.nowMs, policy: AccessPolicy())
        #expect(outcome.reason == row.expected)
    }

    struct PINCase: CustomTestStringConvertible, Sendable {
        var name: String
        var nowMs: Int64
        var reservations: [Reservation]
        var pinOf: Reservation
        var expected: DecisionReason
        var expectedReservation: String?
        var testDescription: String { name }
    }

    static let neighbour = Reservation(
        id: "b-78", spaceID: "room-1", holder: "u-5", startMs: endMs, endMs: endMs + 3_600_000, version: 1)
    static let otherSpace = Reservation(
        id: "b-79", spaceID: "room-2", holder: "u-6", startMs: startMs, endMs: endMs, version: 1)

    static let pinCases: [PINCase] = [
        PINCase(
            name: "granted inside the window", nowMs: startMs, reservations: [reservation], pinOf: reservation,
            expected: .granted, expectedReservation: "b-77"),
        PINCase(
            name: "window start with grace", nowMs: windowStart, reservations: [reservation], pinOf: reservation,
            expected: .granted),
        PINCase(
            name: "1 s before the window", nowMs: windowStart - 1000, reservations: [reservation],
            pinOf: reservation, expected: .notYetValid),
        PINCase(
            name: "window end with grace", nowMs: windowEnd, reservations: [reservation], pinOf: reservation,
            expected: .granted),
        PINCase(
            name: "1 s after the window", nowMs: windowEnd + 1000, reservations: [reservation], pinOf: reservation,
            expected: .expired),
        PINCase(
            name: "cancelled", nowMs: startMs, reservations: [with(reservation) { $0.status = .cancelled }],
            pinOf: reservation, expected: .cancelled),
        PINCase(
            name: "spent single use", nowMs: startMs,
            reservations: [
                with(reservation) {
                    $0.singleUse = true; $0.spent = true
                }
            ], pinOf: reservation,
            expected: .alreadyUsed),
        PINCase(
            name: "PIN of a neighbouring reservation is its own, not this one's", nowMs: startMs,
            reservations: [reservation, neighbour], pinOf: neighbour, expected: .notYetValid,
            expectedReservation: "b-78"),
        PINCase(
            name: "PIN of a reservation of another space", nowMs: startMs, reservations: [reservation, otherSpace],
            pinOf: otherSpace, expected: .invalidCredential),
        PINCase(
            name: "PIN matching nothing", nowMs: startMs, reservations: [reservation],
            pinOf: with(reservation) { $0.id = "b-nope" }, expected: .invalidCredential),
    ]

    @Test(arguments: pinCases)
    func pin(_ row: PINCase) {
        let pins = TestSite().pins
        let pin = pins.pin(
            spaceID: row.pinOf.spaceID, reservationID: row.pinOf.id, startUnixS: row.pinOf.startUnixS,
            endUnixS: row.pinOf.endUnixS)
        let outcome = AccessRules.evaluatePIN(
            pin, lock: Self.lock, candidates: row.reservations, pins: pins, nowMs: row.nowMs)
        #expect(outcome.reason == row.expected)
        if let expectedReservation = row.expectedReservation {
            #expect(outcome.reservation?.id == expectedReservation)
        }
    }

    /// A PIN shared by several reservations takes the first outcome in the contract's list.
    @Test func aPINMatchingSeveralReservationsTakesTheFirstOutcomeInTheList() {
        let pins = TestSite().pins
        let pin = pins.pin(
            spaceID: "room-1", reservationID: "b-77", startUnixS: Self.startMs / 1000, endUnixS: Self.endMs / 1000)
        // The same id, start and end give the same PIN: a cancelled copy and a live one.
        let live = Self.reservation
        let cancelled = with(live) { $0.status = .cancelled }
        let spent = with(live) {
            $0.singleUse = true; $0.spent = true
        }
        let order: [([Reservation], DecisionReason)] = [
            ([cancelled, live], .granted), ([spent, live], .granted), ([cancelled, spent], .alreadyUsed),
        ]
        for (candidates, expected) in order {
            let outcome = AccessRules.evaluatePIN(
                pin, lock: Self.lock, candidates: candidates, pins: pins, nowMs: Self.startMs)
            #expect(outcome.reason == expected)
        }
    }
}

func with<Value>(_ value: Value, _ change: (inout Value) -> Void) -> Value {
    var copy = value
    change(&copy)
    return copy
}
