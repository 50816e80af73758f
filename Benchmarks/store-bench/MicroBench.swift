import AccessCore
import AccessProtocol
import AccessStore
import AccessTesting
import Crypto
import Foundation

/// The pure pieces of a decision, one at a time: median and p99 of many runs, in microseconds.
enum MicroBench {
    struct Figure {
        var name: String
        var p50: Double
        var p99: Double
        var perSecond: Double { p50 > 0 ? 1e6 / p50 : 0 }
    }

    static func time(_ name: String, runs: Int, _ body: (Int) throws -> Void) rethrows -> Figure {
        var samples: [Double] = []
        samples.reserveCapacity(runs)
        for run in 0..<runs {
            let start = ContinuousClock.now
            try body(run)
            samples.append((ContinuousClock.now - start).microseconds)
        }
        return Figure(name: name, p50: percentile(samples, 0.5), p99: percentile(samples, 0.99))
    }

    static func run(runs: Int) async throws -> [Figure] {
        let site = TestSite(spaces: 50)
        let reservation = Reservation(
            id: "b-1", spaceID: "room-1", holder: "u-1", startMs: StoreBench.base, endMs: StoreBench.base + 3_600_000)
        let lock = Lock(id: "lock-1", spaceID: "room-1")
        let nowMs = StoreBench.base + 60_000
        var figures: [Figure] = []

        // Token verification: every token new (EdDSA each time), then one token again (cached).
        let tokens = (0..<runs).map { site.token(for: reservation, jti: "t-\($0)") }
        let uncached = TokenVerifier(issuers: [site.minter.issuerKey], cachedTokens: 0)
        figures.append(time("token verify, EdDSA + claims", runs: runs) { _ = uncached.verify(tokens[$0]) })
        // The signature check alone: what the line above costs beyond it is the token's parsing.
        let publicKey = site.minter.privateKey.publicKey
        let signed = tokens.map { token -> (input: [UInt8], signature: [UInt8]) in
            let parts = token.split(separator: ".", omittingEmptySubsequences: false)
            return (
                Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count)),
                Base64URL.decode(parts[2]) ?? []
            )
        }
        figures.append(
            time("Ed25519 signature check alone", runs: runs) {
                _ = publicKey.isValidSignature(signed[$0].signature, for: signed[$0].input)
            })
        let cached = TokenVerifier(issuers: [site.minter.issuerKey])
        _ = cached.verify(tokens[0])
        figures.append(time("token verify, seen before (cache)", runs: runs) { _ in _ = cached.verify(tokens[0]) })

        // The request envelope.
        let payload = TestSite.requestPayload(requestID: "r-1", credential: .token(tokens[0]), ts: nowMs)
        figures.append(time("request parse (JSON)", runs: runs) { _ in _ = AccessRequest.parse(payload) })

        // The rules, given the store's facts.
        let claims = try uncached.verify(tokens[0]).get()
        let facts = TokenFacts(reservation: reservation)
        figures.append(
            time("token rules (pure decision)", runs: runs) { _ in
                _ = AccessRules.evaluateToken(claims, lock: lock, facts: facts, nowMs: nowMs, policy: AccessPolicy())
            })
        let pin = site.pin(of: reservation)
        figures.append(
            time("PIN check (derive + constant-time compare)", runs: runs) { _ in
                _ = AccessRules.evaluatePIN(pin, lock: lock, candidates: [reservation], pins: site.pins, nowMs: nowMs)
            })
        let index = PINIndex(pins: site.pins, pinKey: SymmetricKey(data: TestSite.pinKeyBytes))
        figures.append(time("PIN digest for the index lookup", runs: runs) { _ in _ = index.digest(pin: pin) })
        let lockKey = site.deviceKeys.lockKey(lockID: "lock-1")
        figures.append(
            time("unlock command + HMAC", runs: runs) { run in
                _ =
                    LockCommand(
                        siteID: "site-1", lockID: "lock-1", commandID: "c-\(run)", requestID: "r-1", unlockForS: 5,
                        issuedAtMs: nowMs, ttlMs: 5000, lockKey: lockKey
                    ).payload
            })

        // Audit append with group commit (synchronous=FULL): one writer at a time, then 64 at once.
        let store = try TemporaryStore(testSite: site, synchronous: .full)
        defer { store.remove() }
        func record(_ run: Int) -> AuditRecord {
            AuditRecord(
                timestampMs: nowMs, gatewayID: "gw-1", lockID: "lock-1", requestID: "r-\(run)", credentialType: "pin",
                granted: true, reason: .granted)
        }
        var single: [Double] = []
        for run in 0..<min(runs, 2000) {
            let start = ContinuousClock.now
            _ = try await store.auditLog.append(record(run))
            single.append((ContinuousClock.now - start).microseconds)
        }
        figures.append(
            Figure(name: "audit append, 1 at a time", p50: percentile(single, 0.5), p99: percentile(single, 0.99)))
        let total = min(runs, 20_000)
        let started = ContinuousClock.now
        let log = store.auditLog
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<64 {
                group.addTask {
                    var run = worker
                    while run < total {
                        _ = try await log.append(record(1_000_000 + run))
                        run += 64
                    }
                }
            }
            try await group.waitForAll()
        }
        let perRecord = (ContinuousClock.now - started).microseconds / Double(total)
        let audit = log.statisticsSnapshot
        figures.append(
            Figure(
                name: String(
                    format: "audit append, 64 at once (%.0f records per commit), per record",
                    Double(audit.records) / Double(max(1, audit.transactions))), p50: perRecord, p99: perRecord))
        return figures
    }
}
