import AccessCore
import AccessEngine
import AccessProtocol
import AccessSharedStore
import AccessStore
import AccessTesting
import Foundation
import MQTTTesting
import Testing

/// Three gateways' engines deciding against one PostgreSQL: what two gateways once got wrong
/// with a store each (issue 19) now holds.
@Suite(.serialized) struct SharedEngineTests {
    struct Gateway {
        var engine: AccessEngine
        var local: TemporaryStore
    }

    /// Three engines (gw-1…gw-3), each with its own local store, sharing `stores`' database.
    static func withGateways(_ body: ([Gateway], [SharedStore], TestSite) async throws -> Void) async throws {
        let site = TestSite(spaces: 1)
        try await SharedStoreTests.withStores(3) { stores, _ in
            let gateways = try (1...3).map { index in
                let local = try TemporaryStore(testSite: site)
                let engine = AccessEngine(
                    store: local.store, auditLog: local.auditLog,
                    configuration: site.engineConfiguration(gatewayID: "gw-\(index)"),
                    shared: SharedDecisions(store: stores[index - 1], gatewayID: "gw-\(index)"))
                return Gateway(engine: engine, local: local)
            }
            try await body(gateways, stores, site)
        }
    }

    /// b-1 in room-1, begun a minute ago, for another hour.
    static func activeBooking(nowMs now: Int64) -> Reservation {
        Reservation(
            id: "b-1", spaceID: "room-1", holder: "u-1", startMs: now - 60_000, endMs: now + 3_600_000, version: 1)
    }

    static func reason(_ result: AccessResult) -> DecisionReason? {
        if case .decided(let decided) = result { return decided.decision.reason }
        return nil
    }

    @Test func aSingleUseTokenShownAtThreeGatewaysAtOnceOpensOnce() async throws {
        try await Self.withGateways { gateways, stores, site in
            let now = Int64(Date().timeIntervalSince1970) * 1000
            let booking = Reservation(
                id: "b-once", spaceID: "room-1", holder: "u-1", startMs: now - 60_000, endMs: now + 3_600_000,
                version: 1, singleUse: true)
            try await stores[0].apply(.upsert(booking), nowMs: now)
            let token = site.token(for: booking, jti: "t-once")
            let payload = TestSite.requestPayload(requestID: "r-1", credential: .token(token))
            let results = try await withThrowingTaskGroup(of: AccessResult.self) { group in
                for gateway in gateways {
                    group.addTask { await gateway.engine.handle(lockID: "lock-1", payload: payload, nowMs: now) }
                }
                return try await group.reduce(into: [AccessResult]()) { $0.append($1) }
            }
            let reasons = results.compactMap(Self.reason)
            #expect(reasons.filter { $0 == .granted }.count == 1, "\(reasons)")
            #expect(reasons.filter { $0 == .alreadyUsed }.count == 2, "\(reasons)")
            let commands = results.compactMap { result -> LockCommand? in
                if case .decided(let decided) = result { return decided.command }
                return nil
            }
            #expect(commands.count == 1, "only the grant is signed")
            for gateway in ["gw-1", "gw-2", "gw-3"] {
                let chain = try await stores[0].verifyChain(gatewayID: gateway)
                #expect(chain.records == 1 && chain.firstBreak == nil)
            }
        }
    }

    /// A cancel this gateway applied but has not yet mirrored into the shared database (its mirror
    /// runs behind under load) still refuses: the grant is checked against the local store.
    @Test func aCancelHeldLocallyButNotYetSharedRefusesTheGrant() async throws {
        try await Self.withGateways { gateways, stores, site in
            let now = Int64(Date().timeIntervalSince1970) * 1000
            let booking = Self.activeBooking(nowMs: now)
            try await stores[0].apply(.upsert(booking), nowMs: now)
            let local = gateways[0].local.store
            _ = try local.apply(.upsert(booking), nowMs: now)
            let pin = TestSite.requestPayload(requestID: "r-1", credential: .pin(site.pin(of: booking)))
            #expect(
                Self.reason(await gateways[0].engine.handle(lockID: "lock-1", payload: pin, nowMs: now)) == .granted)
            // The cancel reaches this gateway's store; the shared database does not have it yet.
            _ = try local.apply(.cancel(reservationID: "b-1", version: 2), nowMs: now)
            let again = TestSite.requestPayload(requestID: "r-2", credential: .pin(site.pin(of: booking)))
            #expect(
                Self.reason(await gateways[0].engine.handle(lockID: "lock-1", payload: again, nowMs: now + 1))
                    == .cancelled)
            // A token revoked here only is refused too.
            let token = TestSite.requestPayload(
                requestID: "r-3", credential: .token(site.token(for: booking, jti: "t-9")))
            _ = try gateways[1].local.store.apply(.upsert(booking), nowMs: now)
            _ = try gateways[1].local.store.apply(.revoke(jti: "t-9"), nowMs: now)
            #expect(
                Self.reason(await gateways[1].engine.handle(lockID: "lock-1", payload: token, nowMs: now + 2))
                    == .revoked)
        }
    }

    @Test func wrongPINsSpreadOverTheGatewaysStartOneLockout() async throws {
        try await Self.withGateways { gateways, stores, site in
            let now = Int64(Date().timeIntervalSince1970) * 1000
            let booking = Self.activeBooking(nowMs: now)
            try await stores[0].apply(.upsert(booking), nowMs: now)
            var started = 0
            for attempt in 0..<5 {
                let payload = TestSite.requestPayload(
                    requestID: "w-\(attempt)", credential: .pin(String(format: "%08d", 11_111_111 + attempt)))
                let result = await gateways[attempt % 3].engine.handle(
                    lockID: "lock-1", payload: payload, nowMs: now + Int64(attempt))
                #expect(Self.reason(result) == .invalidCredential)
                if case .decided(let decided) = result, decided.lockoutStartedS != nil { started += 1 }
            }
            #expect(started == 1, "the fifth wrong PIN, at whichever gateway, starts the lockout")
            // Now even the right PIN waits, at every gateway.
            let right = TestSite.requestPayload(requestID: "r-ok", credential: .pin(site.pin(of: booking)))
            for gateway in gateways {
                #expect(
                    Self.reason(await gateway.engine.handle(lockID: "lock-1", payload: right, nowMs: now + 10))
                        == .lockedOut)
            }
        }
    }

    @Test func withTheDatabaseDownEveryRequestIsDeniedAndDecisionsResumeAfter() async throws {
        let site = TestSite(spaces: 1)
        try await SharedStoreTests.withStores(1, operationTimeout: .seconds(2)) { stores, server in
            let local = try TemporaryStore(testSite: site)
            let engine = AccessEngine(
                store: local.store, auditLog: local.auditLog,
                configuration: site.engineConfiguration(gatewayID: "gw-1"),
                shared: SharedDecisions(store: stores[0], gatewayID: "gw-1"))
            let now = Int64(Date().timeIntervalSince1970) * 1000
            let booking = Self.activeBooking(nowMs: now)
            // (Eventually: the 2 s deadline can be outrun on a loaded machine before the outage.)
            #expect(
                await eventually(timeout: .seconds(30), every: .milliseconds(200)) {
                    (try? await stores[0].apply(.upsert(booking), nowMs: now)) != nil
                })
            let request = TestSite.requestPayload(requestID: "r-1", credential: .pin(site.pin(of: booking)))
            // (Eventually: on a loaded machine the first connection can take longer than the deadline.)
            #expect(
                await eventually(timeout: .seconds(30), every: .milliseconds(200)) {
                    Self.reason(await engine.handle(lockID: "lock-1", payload: request, nowMs: now)) == .granted
                })
            await server.stopped()
            // Never a guess: no facts, no grant.
            let down = await engine.handle(lockID: "lock-1", payload: request, nowMs: now + 1)
            #expect(Self.reason(down) == .internalError)
            if case .decided(let decided) = down { #expect(decided.command == nil) }
            try await server.restarted()
            let resumed = await eventually(timeout: .seconds(30), every: .milliseconds(200)) {
                Self.reason(await engine.handle(lockID: "lock-1", payload: request, nowMs: now + 2)) == .granted
            }
            #expect(resumed)
        }
    }
}
