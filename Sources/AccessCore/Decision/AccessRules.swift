import AccessProtocol

/// The contract's order of checks for a credential that passed validation (steps 5 and 6), as
/// pure functions of the facts and the time. The first check that fails gives the reason.
public enum AccessRules {
    /// The outcome of a credential check, and the reservation it concerns when one was found.
    public struct Outcome: Sendable, Hashable {
        public var reason: DecisionReason
        public var reservation: Reservation?

        public init(_ reason: DecisionReason, reservation: Reservation? = nil) {
            self.reason = reason
            self.reservation = reservation
        }
    }

    /// Step 5, after the signature and claims were verified.
    public static func evaluateToken(
        _ claims: BookingTokenClaims, lock: Lock, facts: TokenFacts, nowMs: Int64, policy: AccessPolicy
    ) -> Outcome {
        if facts.jtiRevoked { return Outcome(.revoked) }
        let now = Double(nowMs)
        let leewayMs = Double(policy.tokenLeewayS) * 1000
        if now < claims.notBeforeS * 1000 - leewayMs { return Outcome(.notYetValid) }
        if now > claims.expiresS * 1000 + leewayMs { return Outcome(.expired) }
        if claims.spaceID != lock.spaceID { return Outcome(.wrongSpace) }
        guard let reservation = facts.reservation else {
            return Outcome(facts.reservationTombstoned ? .cancelled : .unknownReservation)
        }
        if reservation.spaceID != claims.spaceID { return Outcome(.wrongSpace, reservation: reservation) }
        if reservation.holder != claims.holder { return Outcome(.holderMismatch, reservation: reservation) }
        return Outcome(windowReason(reservation, nowMs: nowMs), reservation: reservation)
    }

    /// Step 6 for a PIN that passed the lockout gate. `candidates` are reservations of the lock's
    /// space that may carry this PIN (the store's keyed-digest index); each is confirmed here by
    /// deriving its PIN and comparing in constant time, so a digest collision cannot grant.
    public static func evaluatePIN(
        _ pin: String, lock: Lock, candidates: [Reservation], pins: KeypadPIN, nowMs: Int64
    ) -> Outcome {
        var best: Outcome?
        for reservation in candidates where reservation.spaceID == lock.spaceID {
            let expected = pins.pin(
                spaceID: reservation.spaceID, reservationID: reservation.id, startUnixS: reservation.startUnixS,
                endUnixS: reservation.endUnixS)
            guard KeypadPIN.constantTimeEquals(pin, expected) else { continue }
            let outcome = Outcome(windowReason(reservation, nowMs: nowMs), reservation: reservation)
            if best.map({ pinPriority(outcome.reason) < pinPriority($0.reason) }) ?? true { best = outcome }
        }
        return best ?? Outcome(.invalidCredential)
    }

    /// A card of `holder` (nil: no holder registered it): granted when the holder has a
    /// reservation of the lock's space now. `reservations` are the holder's reservations of that
    /// space; the best outcome among them counts, as for a PIN matching several.
    public static func evaluateCard(holder: String?, lock: Lock, reservations: [Reservation], nowMs: Int64) -> Outcome {
        guard holder != nil else { return Outcome(.invalidCredential) }
        var best: Outcome?
        for reservation in reservations where reservation.spaceID == lock.spaceID && reservation.holder == holder {
            let outcome = Outcome(windowReason(reservation, nowMs: nowMs), reservation: reservation)
            if best.map({ pinPriority(outcome.reason) < pinPriority($0.reason) }) ?? true { best = outcome }
        }
        return best ?? Outcome(.unknownReservation)
    }

    /// A found reservation, checked for status, window (with grace) and single use.
    static func windowReason(_ reservation: Reservation, nowMs: Int64) -> DecisionReason {
        if reservation.status == .cancelled { return .cancelled }
        if nowMs < reservation.windowStartMs { return .notYetValid }
        if nowMs > reservation.windowEndMs { return .expired }
        if reservation.singleUse && reservation.spent { return .alreadyUsed }
        return .granted
    }

    /// A PIN matching several reservations takes the first outcome in the contract's list.
    static func pinPriority(_ reason: DecisionReason) -> Int {
        switch reason {
        case .granted: 0
        case .alreadyUsed: 1
        case .notYetValid: 2
        case .expired: 3
        case .cancelled: 4
        default: 5
        }
    }
}
