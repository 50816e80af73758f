import AccessCore
import AccessProtocol
import AccessStore
import AccessTesting
import MQTTTesting
import Testing

/// For random reservations, booking messages, times and credentials, the engine (store, index,
/// rules) decides exactly as a separate, deliberately plain reference model of the contract.
@Suite struct DecisionPropertyTests {
    @Test(arguments: [1 as UInt64, 2, 3])
    func theEngineAgreesWithTheReferenceModel(seed: UInt64) async throws {
        var policy = AccessPolicy()
        policy.maxRequestsPerS = 1_000_000  // lockout and rate limit have their own tests
        policy.maxFailures = Int.max
        let store = try TemporaryStore(testSite: TestSite(spaces: 3, policy: policy))
        let site = store.testSite
        var random = SplitMix64(seed: seed)
        var model = ReferenceModel(pins: site.pins)
        let base: Int64 = 1_795_276_800_000

        func randomReservation(id: String, version: Int64) -> Reservation {
            let start = base + Int64(random.next(in: -10_800_000...10_800_000))
            return Reservation(
                id: id, spaceID: "room-\(random.next(in: 1...3))", holder: "u-\(random.next(in: 1...5))",
                startMs: start, endMs: start + Int64(random.next(in: 1_800_000...10_800_000)),
                status: random.next(in: 0...9) == 0 ? .cancelled : .confirmed, version: version,
                graceBeforeS: Int64(random.next(in: 0...15)) * 60, graceAfterS: Int64(random.next(in: 0...15)) * 60,
                singleUse: random.next(in: 0...4) == 0)
        }
        func apply(_ message: BookingMessage) throws {
            _ = try store.store.apply(message, nowMs: base)
            model.apply(message)
        }
        for index in 0..<60 { try apply(.upsert(randomReservation(id: "b-\(index)", version: 1))) }
        for index in 0..<5 { try apply(.cancel(reservationID: "b-ghost-\(index)", version: 2)) }
        for index in 0..<5 { try apply(.revoke(jti: "t-\(index)")) }

        let impostor = TokenMinter(kid: site.minter.kid, issuer: site.minter.issuer)
        var compared = 0
        for step in 0..<1500 {
            if random.next(in: 0...9) == 0 {
                // Booking traffic between requests: reschedules, cancels and stale redeliveries.
                let id = "b-\(random.next(in: 0...69))"
                let version = Int64(random.next(in: 0...4))
                try apply(
                    random.next(in: 0...2) == 0
                        ? .cancel(reservationID: id, version: version)
                        : .upsert(randomReservation(id: id, version: version)))
                continue
            }
            let lock = "lock-\(random.next(in: 1...3))"
            let lockSpace = site.site.locks[lock]?.spaceID ?? ""
            let reservations = model.reservations.values.sorted { $0.id < $1.id }
            let target = reservations[random.next(in: 0...(reservations.count - 1))]
            var now = base + Int64(random.next(in: -14_400_000...21_600_000))
            // Land on a window boundary, or 1 ms or 1 s beside it, now and then.
            switch random.next(in: 0...5) {
            case 0: now = target.windowStartMs + Int64([-1000, -1, 0, 1][random.next(in: 0...3)])
            case 1: now = target.windowEndMs + Int64([-1, 0, 1, 1000][random.next(in: 0...3)])
            default: break
            }
            let credential: Credential
            var expected: ReferenceModel.Outcome
            if random.next(in: 0...1) == 0 {
                let rid = [target.id, "b-ghost-\(random.next(in: 0...4))", "b-none"][
                    random.next(in: 0...5) / 4 == 0 ? 0 : random.next(in: 1...2)]
                let holder = random.next(in: 0...4) == 0 ? "u-\(random.next(in: 1...5))" : target.holder
                let space = [target.spaceID, lockSpace, "room-\(random.next(in: 1...3))"][random.next(in: 0...2)]
                let nbf = (target.windowStartMs + Int64(random.next(in: -7_200_000...3_600_000))) / 1000
                let exp = (target.windowEndMs + Int64(random.next(in: -3_600_000...7_200_000))) / 1000
                let jti = "t-\(random.next(in: 0...29))"
                let genuine = random.next(in: 0...9) != 0
                let minter = genuine ? site.minter : impostor
                credential = .token(
                    minter.token(
                        holder: holder, reservationID: rid, spaceID: space, notBeforeS: nbf, expiresS: exp, jti: jti))
                expected = model.decideToken(
                    genuine: genuine, holder: holder, rid: rid, spc: space, nbfS: nbf, expS: exp, jti: jti,
                    lockSpace: lockSpace, nowMs: now)
            } else {
                let pin =
                    random.next(in: 0...3) == 0
                    ? String(format8: random.next(in: 0...99_999_999))
                    : site.pin(of: reservations[random.next(in: 0...(reservations.count - 1))])
                credential = .pin(pin)
                expected = model.decidePIN(pin, lockSpace: lockSpace, nowMs: now)
            }
            let payload = TestSite.requestPayload(requestID: "r-\(step)", credential: credential)
            guard case .decided(let decided) = await store.engine.handle(lockID: lock, payload: payload, nowMs: now)
            else {
                Issue.record("step \(step): no decision")
                continue
            }
            #expect(decided.decision.reason == expected.reason, "step \(step): \(credential.typeName) at \(lock)")
            if expected.reason == .granted {
                #expect(decided.decision.reservationID == expected.reservationID, "step \(step)")
                model.spend(expected.reservationID)
            }
            compared += 1
        }
        #expect(compared > 1000)
        #expect(try AuditLog.verify(store.store.pool).isIntact)
    }
}

/// The contract's rules written out plainly over in-memory collections, without the store, the
/// index or AccessRules.
struct ReferenceModel {
    struct Outcome {
        var reason: DecisionReason
        var reservationID: String?
    }

    let pins: KeypadPIN
    var reservations: [String: Reservation] = [:]
    var tombstones: [String: Int64] = [:]
    var revoked: Set<String> = []
    var spent: Set<String> = []

    mutating func apply(_ message: BookingMessage) {
        switch message {
        case .upsert(let reservation):
            let stored = max(reservations[reservation.id]?.version ?? -1, tombstones[reservation.id] ?? -1)
            if reservation.version > stored {
                reservations[reservation.id] = reservation
                tombstones[reservation.id] = nil
            }
        case .cancel(let id, let version):
            let stored = max(reservations[id]?.version ?? -1, tombstones[id] ?? -1)
            guard version > stored else { return }
            if var reservation = reservations[id] {
                reservation.status = .cancelled
                reservation.version = version
                reservations[id] = reservation
            } else {
                tombstones[id] = version
            }
        case .revoke(let jti):
            revoked.insert(jti)
        case .resync:
            break  // the feed's position only
        }
    }

    mutating func spend(_ id: String?) {
        if let id, reservations[id]?.singleUse == true { spent.insert(id) }
    }

    func windowOutcome(_ r: Reservation, nowMs: Int64) -> DecisionReason {
        if r.status == .cancelled { return .cancelled }
        if nowMs < r.startMs - r.graceBeforeS * 1000 { return .notYetValid }
        if nowMs > r.endMs + r.graceAfterS * 1000 { return .expired }
        if r.singleUse && spent.contains(r.id) { return .alreadyUsed }
        return .granted
    }

    func decideToken(
        genuine: Bool, holder: String, rid: String, spc: String, nbfS: Int64, expS: Int64, jti: String,
        lockSpace: String, nowMs: Int64
    ) -> Outcome {
        if !genuine { return Outcome(reason: .invalidCredential) }
        if revoked.contains(jti) { return Outcome(reason: .revoked) }
        if nowMs < (nbfS - 60) * 1000 { return Outcome(reason: .notYetValid) }
        if nowMs > (expS + 60) * 1000 { return Outcome(reason: .expired) }
        if spc != lockSpace { return Outcome(reason: .wrongSpace) }
        guard let r = reservations[rid] else {
            return Outcome(reason: tombstones[rid] != nil ? .cancelled : .unknownReservation)
        }
        if r.spaceID != spc { return Outcome(reason: .wrongSpace) }
        if r.holder != holder { return Outcome(reason: .holderMismatch) }
        return Outcome(reason: windowOutcome(r, nowMs: nowMs), reservationID: r.id)
    }

    func decidePIN(_ pin: String, lockSpace: String, nowMs: Int64) -> Outcome {
        let matching = reservations.values.filter { r in
            r.spaceID == lockSpace
                && pins.pin(
                    spaceID: r.spaceID, reservationID: r.id, startUnixS: floorDiv(r.startMs, 1000),
                    endUnixS: floorDiv(r.endMs, 1000)) == pin
        }.sorted { $0.id < $1.id }
        for reason in [DecisionReason.granted, .alreadyUsed, .notYetValid, .expired, .cancelled] {
            if let r = matching.first(where: { windowOutcome($0, nowMs: nowMs) == reason }) {
                return Outcome(reason: reason, reservationID: r.id)
            }
        }
        return Outcome(reason: .invalidCredential)
    }

    func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}

extension String {
    init(format8 value: Int) {
        let text = String(value)
        self = String(repeating: "0", count: Swift.max(0, 8 - text.count)) + text
    }
}
