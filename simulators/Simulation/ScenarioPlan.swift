import AccessCore
import AccessProtocol
import MQTTTesting

/// What a holder or an attacker does in the scenario, and what the contract says must happen.
public struct PlannedRequest: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case onTime = "on-time", early, late, cancelled, rescheduled, singleUseAgain = "single-use-again"
        case forgedToken = "forged-token", expiredToken = "expired-token", wrongSpace = "wrong-space"
        case pinGuess = "pin-guess"
    }

    public var kind: Kind
    public var lockID: String
    public var credential: Credential
    public var reservation: Reservation?
    /// The oracle's answer, from the plan alone.
    public var expected: DecisionReason
}

/// A seeded plan: reservations of every category, the requests holders and attackers make, and
/// the expected outcome of each, decided by plain rules independent of the gateway's code.
public struct ScenarioPlan: Sendable {
    public var spaces: [String]
    public var locks: [(id: String, space: String)]
    public var poles: [(id: String, space: String)]
    public var bookingLines: [String] = []
    public var requests: [PlannedRequest] = []
    /// Spaces whose poles report darkness: a grant there must light them.
    public var darkSpaces: Set<String> = []
    public var guessLock: String

    public init(
        spaces: Int, locks: Int, poles: Int, bookings: Int, seed: UInt64, backend: BookingBackend, nowMs: Int64
    ) throws {
        var random = SplitMix64(seed: seed)
        self.spaces = (1...spaces).map { "room-\($0)" }
        self.locks = (1...locks).map { ("lock-\($0)", "room-\(($0 - 1) % spaces + 1)") }
        self.poles = (1...poles).map { ("pole-\($0)", "room-\(($0 - 1) % spaces + 1)") }
        guessLock = self.locks[self.locks.count - 1].id
        darkSpaces = Set(self.spaces.enumerated().filter { $0.offset % 2 == 0 }.map(\.element))
        let usable = self.locks.dropLast()
        var locksOfSpace: [String: [String]] = [:]
        for lock in usable { locksOfSpace[lock.space, default: []].append(lock.id) }
        let bookable = self.spaces.filter { locksOfSpace[$0] != nil }

        let minute: Int64 = 60_000
        for index in 0..<bookings {
            let space = bookable[random.next(below: bookable.count)]
            let lock = locksOfSpace[space]?[random.next(below: locksOfSpace[space]?.count ?? 1)] ?? usable[0].id
            let roll = random.next(below: 100)
            let kind: PlannedRequest.Kind =
                switch roll {
                case ..<55: .onTime
                case ..<65: .early
                case ..<75: .late
                case ..<83: .cancelled
                case ..<88: .rescheduled
                default: .singleUseAgain
                }
            var start = nowMs - Int64(random.next(below: 30)) * minute
            switch kind {
            case .early, .rescheduled: start = nowMs + Int64(120 + random.next(below: 600)) * minute
            case .late: start = nowMs - Int64(300 + random.next(below: 600)) * minute
            default: break
            }
            let end = start + Int64(60 + random.next(below: 120)) * minute
            var reservation = Reservation(
                id: "b-\(index)", spaceID: space, holder: "u-\(random.next(below: 500))", startMs: start, endMs: end,
                version: 1, graceBeforeS: Int64(random.next(below: 10)) * 60,
                graceAfterS: Int64(random.next(below: 10)) * 60,
                singleUse: kind == .singleUseAgain)
            bookingLines.append(BookingMessage.upsert(reservation).payload)
            let useToken = random.next(below: 100) < 60
            func credential(_ r: Reservation, jti: String) throws -> Credential {
                useToken ? .token(try backend.token(for: r, jti: jti)) : .pin(backend.pin(for: r))
            }
            switch kind {
            case .onTime:
                requests.append(
                    PlannedRequest(
                        kind: kind, lockID: lock, credential: try credential(reservation, jti: "t-\(index)"),
                        reservation: reservation, expected: .granted))
            case .early:
                requests.append(
                    PlannedRequest(
                        kind: kind, lockID: lock, credential: try credential(reservation, jti: "t-\(index)"),
                        reservation: reservation, expected: .notYetValid))
            case .late:
                requests.append(
                    PlannedRequest(
                        kind: kind, lockID: lock, credential: try credential(reservation, jti: "t-\(index)"),
                        reservation: reservation, expected: .expired))
            case .cancelled:
                bookingLines.append(BookingMessage.cancel(reservationID: reservation.id, version: 2).payload)
                requests.append(
                    PlannedRequest(
                        kind: kind, lockID: lock, credential: try credential(reservation, jti: "t-\(index)"),
                        reservation: reservation, expected: .cancelled))
            case .rescheduled:
                // The old token (for the future window) is not yet valid; the new booking opens.
                let oldToken = Credential.token(try backend.token(for: reservation, jti: "t-\(index)-old"))
                reservation.startMs = nowMs - 5 * minute
                reservation.endMs = reservation.startMs + 90 * minute
                reservation.version = 2
                bookingLines.append(BookingMessage.upsert(reservation).payload)
                requests.append(
                    PlannedRequest(
                        kind: kind, lockID: lock, credential: oldToken, reservation: reservation, expected: .notYetValid
                    ))
                requests.append(
                    PlannedRequest(
                        kind: kind, lockID: lock, credential: try credential(reservation, jti: "t-\(index)"),
                        reservation: reservation, expected: .granted))
            case .singleUseAgain:
                requests.append(
                    PlannedRequest(
                        kind: .onTime, lockID: lock, credential: try credential(reservation, jti: "t-\(index)"),
                        reservation: reservation, expected: .granted))
                requests.append(
                    PlannedRequest(
                        kind: kind, lockID: lock, credential: try credential(reservation, jti: "t-\(index)-again"),
                        reservation: reservation, expected: .alreadyUsed))
            default:
                break
            }
            // Attackers, now and then, against live bookings.
            if kind == .onTime, random.next(below: 100) < 12 {
                switch random.next(below: 3) {
                case 0:
                    requests.append(
                        PlannedRequest(
                            kind: .forgedToken, lockID: lock,
                            credential: .token(try backend.forgedToken(for: reservation, jti: "f-\(index)")),
                            reservation: reservation, expected: .invalidCredential))
                case 1:
                    let stale = try backend.token(
                        for: reservation, jti: "x-\(index)", notBeforeS: nowMs / 1000 - 7200,
                        expiresS: nowMs / 1000 - 3600)
                    requests.append(
                        PlannedRequest(
                            kind: .expiredToken, lockID: lock, credential: .token(stale), reservation: reservation,
                            expected: .expired))
                default:
                    let elsewhere = usable.first { $0.space != space }?.id ?? lock
                    let expected: DecisionReason = elsewhere == lock ? .granted : .wrongSpace
                    requests.append(
                        PlannedRequest(
                            kind: .wrongSpace, lockID: elsewhere,
                            credential: .token(try backend.token(for: reservation, jti: "w-\(index)")),
                            reservation: reservation, expected: expected))
                }
            }
        }
        // Ordered per reservation (a single-use second try after the first), shuffled across them.
        requests = stableShuffle(requests, using: &random)
        // PIN guessing at the one lock no holder uses: four wrong, the fifth starts a lockout, then locked out.
        for attempt in 0..<6 {
            let guess = String(format: "%08d", random.next(below: 100_000_000))
            requests.append(
                PlannedRequest(
                    kind: .pinGuess, lockID: guessLock, credential: .pin(guess), reservation: nil,
                    expected: attempt < 5 ? .invalidCredential : .lockedOut))
        }
    }

    /// Shuffles whole groups of requests that share a reservation, keeping each group's order.
    func stableShuffle(_ requests: [PlannedRequest], using random: inout SplitMix64) -> [PlannedRequest] {
        var groups: [String: [PlannedRequest]] = [:]
        var order: [String] = []
        for request in requests {
            let key = request.reservation?.id ?? UUIDLike.next(&random)
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(request)
        }
        for index in stride(from: order.count - 1, to: 0, by: -1) {
            order.swapAt(index, random.next(below: index + 1))
        }
        return order.flatMap { groups[$0] ?? [] }
    }
}

enum UUIDLike {
    static func next(_ random: inout SplitMix64) -> String { "g-\(random.next(below: Int.max))" }
}
