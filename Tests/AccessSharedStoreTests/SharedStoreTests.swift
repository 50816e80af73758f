import AccessCore
import AccessProtocol
import AccessSharedStore
import AccessTesting
import Foundation
import Logging
import MQTTTesting
import PostgresNIO
import Synchronization
import Testing

/// The shared store against a real PostgreSQL that each test starts itself (initdb and the
/// server in a temporary folder on a free loopback port, stopped by pid): what must hold when
/// several gateways decide against one database.
@Suite(.serialized) struct SharedStoreTests {
    /// `count` stores (one per gateway, each with its own connection pool) on one fresh database.
    /// `operationTimeout`: generous by default, since the suite's other tests can starve these
    /// of the 2 cores for seconds (the contention tests queue on one row lock); the outage tests
    /// use the production deadline.
    static func withStores(
        _ count: Int, operationTimeout: Duration = .seconds(30),
        _ body: ([SharedStore], PostgresServer) async throws -> Void
    ) async throws {
        let server = try await PostgresServer.launch()
        let site = TestSite()
        let stores = (0..<count).map { _ in
            SharedStore(
                configuration: .init(
                    host: "127.0.0.1", port: server.port, username: PostgresServer.user,
                    database: PostgresServer.database),
                pinIndex: site.pinIndex, logger: TestLogging.logger("postgres"), operationTimeout: operationTimeout)
        }
        let pools = stores.map { store in Task { await store.run() } }
        do {
            // Every gateway migrates at start; together, they do it once.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for store in stores { group.addTask { try await store.migrate() } }
                try await group.waitForAll()
            }
            try await body(stores, server)
        } catch {
            for pool in pools { pool.cancel() }
            await server.tornDown()
            throw error
        }
        for pool in pools { pool.cancel() }
        await server.tornDown()
    }

    /// One instant for the whole suite: a PIN derives from the window, so a reservation built
    /// twice must get the same one.
    static let now = Int64(Date().timeIntervalSince1970) * 1000

    static func reservation(_ id: String, version: Int64 = 1, singleUse: Bool = false) -> Reservation {
        Reservation(
            id: id, spaceID: "room-1", holder: "u-1", startMs: now - 60_000, endMs: now + 3_600_000, version: version,
            singleUse: singleUse)
    }

    @Test func aSingleUseReservationIsSpentOnceWhateverGatewaysTryAtOnce() async throws {
        try await Self.withStores(3) { stores, _ in
            try await stores[0].apply(.upsert(Self.reservation("b-once", singleUse: true)), nowMs: 0)
            let spends = try await withThrowingTaskGroup(of: Bool.self) { group in
                for attempt in 0..<30 {
                    group.addTask { try await stores[attempt % 3].spend(reservationID: "b-once") }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(spends == 1)
            // A reschedule keeps it spent.
            try await stores[1].apply(.upsert(Self.reservation("b-once", version: 2, singleUse: true)), nowMs: 0)
            #expect(try await stores[2].spend(reservationID: "b-once") == false)
        }
    }

    @Test func wrongPINsAtEveryGatewayCountTowardsOneLockout() async throws {
        try await Self.withStores(3) { stores, _ in
            let policy = AccessPolicy()
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let effects = try await withThrowingTaskGroup(of: PINLockout.Effect.self) { group in
                for attempt in 0..<policy.maxFailures {
                    group.addTask {
                        try await stores[attempt % 3].underLockout(lockID: "lock-1", nowMs: now, policy: policy) {
                            AccessRules.Outcome(.invalidCredential)
                        }.effect
                    }
                }
                return try await group.reduce(into: [PINLockout.Effect]()) { $0.append($1) }
            }
            #expect(effects.filter { $0 != .none }.count == 1, "the fifth wrong PIN, wherever, starts the lockout")
            let evaluated = Mutex(false)
            let next = try await stores[2].underLockout(lockID: "lock-1", nowMs: now + 10, policy: policy) {
                evaluated.withLock { $0 = true }
                return AccessRules.Outcome(.granted)
            }
            #expect(next.reason == .lockedOut && (next.retryAfterS ?? 0) > 0 && !evaluated.withLock { $0 })
            // Another lock is not affected.
            let other = try await stores[0].underLockout(lockID: "lock-2", nowMs: now, policy: policy) {
                AccessRules.Outcome(.granted)
            }
            #expect(other.reason == .granted)
        }
    }

    @Test func anOperatorRequestIsAcceptedOnceAcrossGateways() async throws {
        try await Self.withStores(3) { stores, _ in
            let accepted = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<9 {
                    group.addTask {
                        try await stores[index % 3].acceptOperatorRequest(
                            "op-1", gatewayID: "gw-\(index % 3)", nowMs: 0)
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(accepted == 1)
            #expect(try await stores[0].acceptOperatorRequest("op-2", gatewayID: "gw-0", nowMs: 0))
        }
    }

    @Test func bookingsAreAppliedOncePerDatabaseHoweverManyGatewaysReceiveThem() async throws {
        try await Self.withStores(3) { stores, _ in
            let messages: [BookingMessage] =
                (1...5).map { .upsert(Self.reservation("b-\($0)")) } + [.revoke(jti: "t-9")]
            // Every gateway receives every message (a shared feed), each in its own order.
            let applied = try await withThrowingTaskGroup(of: Int.self) { group in
                for store in stores {
                    group.addTask {
                        var applied = 0
                        for (index, message) in messages.enumerated().shuffled() {
                            let outcome = try await store.apply(message, seq: Int64(index + 1), nowMs: 0)
                            if outcome == .applied { applied += 1 }
                        }
                        return applied
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(applied == messages.count, "each message applied by exactly one gateway")
            #expect(try await stores[0].appliedSeq() == 6)
            #expect(try await stores[2].apply(messages[0], seq: 1, nowMs: 0) == .ignoredAsOlder, "a redelivery")

            // The version rule, as in the SQLite store.
            #expect(try await stores[1].apply(.cancel(reservationID: "b-1", version: 2), seq: 7, nowMs: 0) == .applied)
            #expect(
                try await stores[2].apply(.upsert(Self.reservation("b-1", version: 1)), seq: 8, nowMs: 0)
                    == .ignoredAsOlder)
            #expect(
                try await stores[0].apply(.cancel(reservationID: "b-new", version: 3), seq: 9, nowMs: 0) == .applied)
            #expect(try await stores[0].appliedSeq() == 9)
            let facts = try await stores[1].tokenFacts(jti: "t-9", reservationID: "b-1")
            #expect(facts.jtiRevoked && facts.reservation?.status == .cancelled && facts.reservation?.version == 2)
            let tombstone = try await stores[2].tokenFacts(jti: "t-0", reservationID: "b-new")
            #expect(tombstone.reservation == nil && tombstone.reservationTombstoned && !tombstone.jtiRevoked)
            // PIN lookups read the same reservations at any gateway.
            let pin = TestSite().pin(of: Self.reservation("b-2"))
            #expect(try await stores[2].pinCandidates(spaceID: "room-1", pin: pin).map(\.id) == ["b-2"])
        }
    }

    @Test func eachGatewayKeepsItsOwnChainAndATamperedRecordIsFound() async throws {
        try await Self.withStores(2) { stores, server in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, store) in stores.enumerated() {
                    group.addTask {
                        for number in 0..<20 {
                            let record = AuditRecord(
                                timestampMs: Int64(number), gatewayID: "gw-\(index)", lockID: "lock-1",
                                requestID: "r-\(number)", credentialType: "pin", granted: number % 2 == 0,
                                reason: number % 2 == 0 ? .granted : .invalidCredential)
                            let committed = try await store.append([record], gatewayID: "gw-\(index)")
                            #expect(committed.first?.seq == Int64(number + 1))
                        }
                    }
                }
                try await group.waitForAll()
            }
            for gateway in ["gw-0", "gw-1"] {
                let verified = try await stores[0].verifyChain(gatewayID: gateway)
                #expect(verified.records == 20 && verified.firstBreak == nil)
            }
            let psql = try await ExternalTool.captureDetached(
                "psql",
                [
                    "-h", "127.0.0.1", "-p", "\(server.port)", "-U", PostgresServer.user, "-d", PostgresServer.database,
                    "-c", "UPDATE audit_log SET granted = true WHERE gateway_id = 'gw-1' AND seq = 4",
                ])
            #expect(psql.status == 0, "\(psql.standardError)")
            #expect(try await stores[1].verifyChain(gatewayID: "gw-1").firstBreak == 4)
            #expect(try await stores[1].verifyChain(gatewayID: "gw-0").firstBreak == nil)
        }
    }

    @Test func whileTheDatabaseIsDownEveryOperationFailsAndAfterItsBackTheyResume() async throws {
        try await Self.withStores(1, operationTimeout: .seconds(2)) { stores, server in
            let store = stores[0]
            #expect(
                await eventually(timeout: .seconds(30), every: .milliseconds(200)) {
                    (try? await store.apply(.upsert(Self.reservation("b-1", singleUse: true)), nowMs: 0)) != nil
                })
            await server.stopped()
            // Denied fast, never queued for the pool's minute: the deadline (2 s) answers.
            let started = ContinuousClock.now
            await #expect(throws: (any Error).self) { try await store.spend(reservationID: "b-1") }
            #expect(ContinuousClock.now - started < .seconds(10), "the 2 s deadline, plus a loaded machine's delay")
            try await server.restarted()
            // The pool reconnects with its backoff (short after a short outage).
            var spent: Bool?
            let deadline = ContinuousClock.now + .seconds(30)
            while spent == nil, ContinuousClock.now < deadline {
                spent = try? await store.spend(reservationID: "b-1")
                if spent == nil { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(spent == true)
            #expect(try await store.spend(reservationID: "b-1") == false)
        }
    }

    /// `database.caFile`: TLS required, the server's certificate checked against that CA (and its
    /// name against the host); a server whose certificate another CA signed is never talked to.
    @Test func tlsToTheDatabaseVerifiesTheServer() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let server = try await PostgresServer.launch(
            tls: (certificates.serverCertificate, certificates.serverKey))
        func store(ca: String, timeout: Duration) -> SharedStore {
            SharedStore(
                configuration: .init(
                    host: "127.0.0.1", port: server.port, username: PostgresServer.user,
                    database: PostgresServer.database, tls: SharedStore.requireTLS(caFile: ca)),
                pinIndex: TestSite().pinIndex, logger: TestLogging.logger("postgres"), operationTimeout: timeout)
        }
        let trusted = store(ca: certificates.caCertificate, timeout: .seconds(30))
        let stranger = store(ca: certificates.otherCACertificate, timeout: .seconds(3))
        let pools = [trusted, stranger].map { store in Task { await store.run() } }
        var failure: (any Error)?
        do {
            try await trusted.migrate()
            #expect(try await trusted.acceptOperatorRequest("op-tls", gatewayID: "gw-1", nowMs: 0))
            // psql itself without TLS, so only the store's pooled connection can count.
            let ssl = try await ExternalTool.captureDetached(
                "psql",
                [
                    "sslmode=disable host=127.0.0.1 port=\(server.port) user=\(PostgresServer.user) dbname=\(PostgresServer.database)",
                    "-At", "-c", "SELECT count(*) FROM pg_stat_ssl WHERE ssl",
                ])
            #expect(
                (Int(ssl.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) >= 1,
                "the store's connection is TLS")
            await #expect(throws: (any Error).self) { try await stranger.appliedSeq() }
        } catch {
            failure = error
        }
        for pool in pools { pool.cancel() }
        await server.tornDown()
        if let failure { throw failure }
    }
}
