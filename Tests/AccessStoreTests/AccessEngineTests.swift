import AccessCore
import AccessEngine
import AccessProtocol
import AccessStore
import AccessTesting
import Crypto
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Every reason of the contract through the engine, with a real SQLite store: payload bytes in,
/// decision, audit record and signed command out.
@Suite struct AccessEngineTests {
    static let startMs: Int64 = 1_795_276_800_000
    static let endMs: Int64 = startMs + 2 * 3_600_000
    static let booking = Reservation(
        id: "b-77", spaceID: "room-1", holder: "u-123", startMs: startMs, endMs: endMs, version: 3,
        graceBeforeS: 600, graceAfterS: 300)

    func decide(
        _ store: TemporaryStore, lockID: String = "lock-1", credential: Credential, requestID: String = "r-1",
        nowMs: Int64 = startMs
    ) async -> AccessDecided? {
        let payload = TestSite.requestPayload(requestID: requestID, credential: credential)
        guard case .decided(let decided) = await store.engine.handle(lockID: lockID, payload: payload, nowMs: nowMs)
        else { return nil }
        return decided
    }

    @Test func aValidTokenIsGrantedAuditedAndGetsACommandWhoseMACVerifies() async throws {
        let store = try TemporaryStore()
        try store.insert([Self.booking])
        let token = store.testSite.token(for: Self.booking, jti: "t-1")
        let decided = try #require(await decide(store, credential: .token(token)))
        #expect(decided.decision.reason == .granted)
        #expect(decided.decision.requestID == "r-1" && decided.decision.reservationID == "b-77")
        let command = try #require(decided.command)
        #expect(decided.decision.commandID == command.commandID)
        #expect(command.notAfterMs == Self.startMs + 5000 && command.unlockForS == 5)
        let canonical = CommandMAC.lockCanonical(
            siteID: "site-1", lockID: "lock-1", commandID: command.commandID, action: "unlock", unlockForS: 5,
            issuedAt: command.issuedAtMs, notAfter: command.notAfterMs)
        #expect(
            CommandMAC.verify(
                mac: command.mac, canonical: canonical, key: store.testSite.deviceKeys.lockKey(lockID: "lock-1")))
        #expect(
            !CommandMAC.verify(
                mac: command.mac, canonical: canonical, key: store.testSite.deviceKeys.lockKey(lockID: "lock-2")))
        #expect(command.messageExpiryS(nowMs: Self.startMs + 10) == 5)
        let audit = try #require(decided.audit)
        #expect(audit.seq == 1 && audit.record.granted && audit.record.jti == "t-1" && audit.record.holder == "u-123")
        #expect(audit.record.commandID == command.commandID && audit.record.credentialType == "token")
        #expect(!audit.record.canonical.contains(token))
    }

    @Test func aPINIsGrantedAndNeverStored() async throws {
        let store = try TemporaryStore()
        try store.insert([Self.booking])
        let pin = store.testSite.pin(of: Self.booking)
        let decided = try #require(await decide(store, credential: .pin(pin)))
        #expect(decided.decision.reason == .granted && decided.command != nil)
        #expect(decided.audit?.record.reservationID == "b-77" && decided.audit?.record.credentialType == "pin")
        // Nothing in the file holds the PIN in clear.
        let dump = try String(decoding: readAll(store.path), as: UTF8.self)
        #expect(!dump.contains(pin))
    }

    struct Row: CustomTestStringConvertible, Sendable {
        var name: String
        var expected: DecisionReason
        var testDescription: String { name }
    }

    /// The deny reasons reachable with a token, each from a store and a token built for it.
    @Test func everyTokenDenyReason() async throws {
        var policy = AccessPolicy()
        policy.maxRequestsPerS = 1000  // the rows come faster than a lock may ask
        let store = try TemporaryStore(testSite: TestSite(policy: policy))
        let site = store.testSite
        let cancelled = with(Self.booking) {
            $0.id = "b-cancelled"; $0.version = 1
        }
        let singleUse = with(Self.booking) {
            $0.id = "b-once"; $0.singleUse = true
        }
        let otherSpace = with(Self.booking) {
            $0.id = "b-room2"; $0.spaceID = "room-2"
        }
        try store.insert([Self.booking, cancelled, singleUse, otherSpace])
        _ = try store.store.apply(.cancel(reservationID: "b-cancelled", version: 2), nowMs: 0)
        _ = try store.store.apply(.cancel(reservationID: "b-ghost", version: 1), nowMs: 0)
        _ = try store.store.apply(.revoke(jti: "t-revoked"), nowMs: 0)
        let t = site.minter
        let nbf = Self.startMs / 1000 - 600
        let exp = Self.endMs / 1000 + 300
        func mint(_ holder: String = "u-123", _ rid: String = "b-77", _ spc: String = "room-1", jti: String = "t-x")
            -> String
        {
            t.token(holder: holder, reservationID: rid, spaceID: spc, notBeforeS: nbf, expiresS: exp, jti: jti)
        }
        let cases: [(String, String, Int64, DecisionReason)] = [
            ("alg none", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1LTEyMyJ9.", Self.startMs, .invalidCredential),
            (
                "HS256 with the public key",
                t.hs256WithPublicKey(
                    claims: t.claims(
                        holder: "u-123", reservationID: "b-77", spaceID: "room-1", notBeforeS: nbf, expiresS: exp,
                        jti: "t-x")), Self.startMs, .invalidCredential
            ),
            (
                "unknown kid",
                TokenMinter(kid: "kid-9", issuer: t.issuer, privateKey: t.privateKey).token(
                    holder: "u-123", reservationID: "b-77", spaceID: "room-1", notBeforeS: nbf, expiresS: exp,
                    jti: "t-x"), Self.startMs, .invalidCredential
            ),
            ("revoked", mint(jti: "t-revoked"), Self.startMs, .revoked),
            ("not yet valid (nbf)", mint(), nbf * 1000 - 61_000, .notYetValid),
            ("expired (exp)", mint(), exp * 1000 + 61_000, .expired),
            ("token for another space", mint("u-123", "b-room2", "room-2"), Self.startMs, .wrongSpace),
            ("reservation of another space", mint("u-123", "b-room2", "room-1"), Self.startMs, .wrongSpace),
            ("unknown reservation", mint("u-123", "b-nope"), Self.startMs, .unknownReservation),
            ("cancel tombstone", mint("u-123", "b-ghost"), Self.startMs, .cancelled),
            ("holder mismatch", mint("u-999"), Self.startMs, .holderMismatch),
            ("cancelled reservation", mint("u-123", "b-cancelled"), Self.startMs, .cancelled),
            ("before the window", mint(), Self.startMs - 600_001, .notYetValid),
            ("after the window", mint(), Self.endMs + 300_001, .expired),
            ("single use, first", mint("u-123", "b-once", jti: "t-once-1"), Self.startMs, .granted),
            (
                "single use, again with another token", mint("u-123", "b-once", jti: "t-once-2"), Self.startMs,
                .alreadyUsed
            ),
        ]
        for (name, token, now, expected) in cases {
            let decided = await decide(
                store, credential: .token(token), requestID: "r-\(expected.rawValue)", nowMs: now)
            #expect(decided?.decision.reason == expected, "\(name)")
            #expect(decided?.audit?.record.reason == expected, "\(name) audited")
            #expect((decided?.command != nil) == (expected == .granted), "\(name) command")
        }
    }

    @Test func everyPINReasonIncludingTheLockoutSequence() async throws {
        let store = try TemporaryStore()
        let site = store.testSite
        let later = with(Self.booking) {
            $0.id = "b-later"; $0.startMs += 86_400_000; $0.endMs += 86_400_000
        }
        let earlier = with(Self.booking) {
            $0.id = "b-earlier"; $0.startMs -= 86_400_000; $0.endMs -= 86_400_000
        }
        let neighbour = with(Self.booking) {
            $0.id = "b-neighbour"; $0.spaceID = "room-2"
        }
        let gone = with(Self.booking) {
            $0.id = "b-gone"; $0.status = .cancelled
        }
        try store.insert([Self.booking, later, earlier, neighbour, gone])
        let now = Self.startMs
        #expect(await decide(store, credential: .pin(site.pin(of: later)), nowMs: now)?.decision.reason == .notYetValid)
        #expect(await decide(store, credential: .pin(site.pin(of: earlier)), nowMs: now)?.decision.reason == .expired)
        #expect(await decide(store, credential: .pin(site.pin(of: gone)), nowMs: now)?.decision.reason == .cancelled)
        // A PIN from a neighbouring space's reservation is a wrong PIN here: five start a lockout.
        let wrong = site.pin(of: neighbour)
        for attempt in 1...5 {
            let decided = await decide(store, credential: .pin(wrong), nowMs: now + Int64(attempt))
            #expect(decided?.decision.reason == .invalidCredential)
            #expect((decided?.lockoutStartedS != nil) == (attempt == 5))
        }
        let locked = await decide(store, credential: .pin(site.pin(of: Self.booking)), nowMs: now + 1005)
        // The lockout began at now + 5 ms and lasts 60 s: 59 s and 5 ms are left, rounded up to 60.
        let lockedAgain = await decide(store, credential: .pin(site.pin(of: Self.booking)), nowMs: now + 1004)
        #expect(lockedAgain?.decision.retryAfterS == 60)
        #expect(locked?.decision.reason == .lockedOut && locked?.decision.retryAfterS == 59)
        #expect(locked?.decision.payload.contains("\"retryAfterS\":59") == true)
        // A valid token still opens during a PIN lockout.
        let token = site.token(for: Self.booking, jti: "t-during-lockout")
        #expect(await decide(store, credential: .token(token), nowMs: now + 2000)?.decision.reason == .granted)
        // The neighbour's PIN works at its own lock.
        #expect(
            await decide(store, lockID: "lock-2", credential: .pin(wrong), nowMs: now + 2000)?.decision.reason
                == .granted)
        // After the lockout the right PIN opens.
        #expect(
            await decide(store, credential: .pin(site.pin(of: Self.booking)), nowMs: now + 61_005)?.decision.reason
                == .granted)
    }

    @Test func unknownLockRateLimitMalformedAndDroppedIds() async throws {
        let store = try TemporaryStore()
        try store.insert([Self.booking])
        let unknown = await decide(store, lockID: "lock-99", credential: .pin("1234"))
        #expect(unknown?.decision.reason == .unknownLock && unknown?.decision.requestID == nil)
        #expect(unknown?.audit?.record.lockID == "lock-99")
        for bad in ["", ".", "..", "lock/1", "lock+", "#", "$SYS", String(repeating: "a", count: 65)] {
            let result = await store.engine.handle(lockID: bad, payload: [], nowMs: 0)
            guard case .dropped = result else { Issue.record("\(bad) was not dropped"); continue }
        }
        let malformed = await store.engine.handle(
            lockID: "lock-1", payload: Array(#"{"requestId":"r-9","credential":{"type":"pin"}}"#.utf8),
            nowMs: Self.startMs)
        guard case .decided(let decided) = malformed else { Issue.record("no decision"); return }
        #expect(decided.decision.reason == .malformed && decided.decision.requestID == "r-9")
        // Ten requests fill the bucket (it started with one spent above); the rest are refused before parsing.
        var reasons: [DecisionReason] = []
        for index in 0..<12 {
            let result = await store.engine.handle(
                lockID: "lock-1", payload: Array("junk".utf8), nowMs: Self.startMs + 1)
            if case .decided(let decided) = result { reasons.append(decided.decision.reason) }
            _ = index
        }
        #expect(reasons.filter { $0 == .malformed }.count == 9)
        #expect(reasons.filter { $0 == .rateLimited }.count == 3)
        // Every other decided request has one audit record; the three `rate_limited` ones share
        // their lock's per-minute record, committed when its window closes (here: forced).
        #expect(try AuditLog.verify(store.store.pool).verifiedRecords == 11)
        #expect(await store.engine.commitRefusalTallies(nowMs: Self.startMs + 1, all: true) == nil)
        let verification = try AuditLog.verify(store.store.pool)
        #expect(verification.isIntact && verification.verifiedRecords == 12)
        let tally = try store.store.auditRecords(afterSeq: 11, limit: 1).first?.record
        #expect(tally?.reason == .rateLimited && tally?.count == 3 && tally?.requestID == nil)
    }

    @Test func aStoreFaultIsAnInternalErrorNeverAGrant() async throws {
        let store = try TemporaryStore()
        try store.insert([Self.booking])
        try await store.store.pool.write { db in try db.execute(sql: "DROP TABLE revoked_tokens") }
        let token = store.testSite.token(for: Self.booking, jti: "t-1")
        let decided = await decide(store, credential: .token(token))
        #expect(decided?.decision.reason == .internalError && decided?.command == nil)
        #expect(decided?.audit?.record.granted == false)
    }

    @Test func concurrentRequestsForASingleUseReservationGrantOnce() async throws {
        let store = try TemporaryStore()
        let once = with(Self.booking) { $0.singleUse = true }
        try store.insert([once])
        let site = store.testSite
        let reasons = await withTaskGroup(of: DecisionReason?.self) { group in
            for index in 0..<8 {
                group.addTask {
                    let token = site.token(for: once, jti: "t-\(index)")
                    return await decide(store, credential: .token(token), requestID: "r-\(index)")?.decision.reason
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(reasons.filter { $0 == .granted }.count == 1)
        #expect(reasons.filter { $0 == .alreadyUsed }.count == 7)
        #expect(try store.store.reservation(id: "b-77")?.spent == true)
    }
}

func with<Value>(_ value: Value, _ change: (inout Value) -> Void) -> Value {
    var copy = value
    change(&copy)
    return copy
}

func readAll(_ path: String) throws -> [UInt8] {
    var bytes: [UInt8] = []
    for suffix in ["", "-wal"] {
        guard let file = fopen(path + suffix, "rb") else { continue }
        defer { fclose(file) }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            bytes.append(contentsOf: buffer.prefix(count))
            if count < buffer.count { break }
        }
    }
    return bytes
}
