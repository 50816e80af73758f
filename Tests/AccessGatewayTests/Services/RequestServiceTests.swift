import AccessCore
import AccessGateway
import AccessGatewayTesting
import AccessProtocol
import AccessTesting
import Foundation
import MQTT
import Testing

/// The request service in-process: per-lock order, fairness, bounded lanes, a graceful drain.
@Suite struct RequestServiceTests {
    static func activeBooking(id: String = "b-1", space: String = "room-1", singleUse: Bool = false) -> Reservation {
        let now = Int64(Date().timeIntervalSince1970) * 1000
        return Reservation(
            id: id, spaceID: space, holder: "u-1", startMs: now - 600_000, endMs: now + 3_600_000, singleUse: singleUse)
    }

    @Test func aGrantIsDecidedAuditedAndFollowedByItsSignedCommand() async throws {
        let gateway = try await TestGateway()
        let booking = Self.activeBooking()
        #expect(gateway.book(.upsert(booking)) == "applied")
        let decision = try #require(
            await gateway.request(requestID: "r-1", credential: .token(gateway.site.token(for: booking, jti: "t-1"))))
        #expect(decision["reason"] as? String == "granted")
        let commandID = try #require(decision["commandId"] as? String)
        let messages = gateway.published.messages
        let decisionIndex = try #require(messages.firstIndex { $0.topic == gateway.topics.decision(lockID: "lock-1") })
        let commandIndex = try #require(messages.firstIndex { $0.topic == gateway.topics.command(lockID: "lock-1") })
        #expect(decisionIndex < commandIndex)
        let command = try #require(TestGateway.json(messages[commandIndex].payload))
        #expect(command["commandId"] as? String == commandID)
        let canonical = CommandMAC.lockCanonical(
            siteID: "site-1", lockID: "lock-1", commandID: commandID, action: "unlock", unlockForS: 5,
            issuedAt: command["issuedAt"] as? Int64 ?? 0, notAfter: command["notAfter"] as? Int64 ?? 0)
        #expect(
            CommandMAC.verify(
                mac: command["mac"] as? String ?? "", canonical: canonical,
                key: gateway.site.deviceKeys.lockKey(lockID: "lock-1")))
        // Audited before it was published.
        #expect(gateway.temporary.auditLog.head.seq == 1)
        await gateway.stop()
    }

    /// Bursts of 10 pipelined requests from one lock: decisions and commands come back in request
    /// order every time (contract v1.1). 300 bursts here, to spare the suite's two cores;
    /// `flood-bench --order-bursts 1000` checks 1,000 end to end.
    @Test func oneLocksDecisionsAndCommandsKeepItsRequestOrder() async throws {
        let gateway = try await TestGateway(maxRequestsPerS: 1_000_000, synchronous: .normal, logLevel: .warning)
        let booking = Self.activeBooking()
        gateway.book(.upsert(booking))
        let token = Credential.token(gateway.site.token(for: booking, jti: "t-1"))
        let decisions = gateway.topics.decision(lockID: "lock-1")
        let commands = gateway.topics.command(lockID: "lock-1")
        // Another lock's requests run alongside, so the workers really are concurrent.
        let other = Self.activeBooking(id: "b-2", space: "room-2")
        gateway.book(.upsert(other))
        let otherToken = Credential.token(gateway.site.token(for: other, jti: "t-2"))
        for burst in 0..<300 {
            for index in 0..<10 {
                gateway.send(requestID: "r-\(burst)-\(index)", credential: token)
                if index % 3 == 0 {
                    gateway.send(lockID: "lock-2", requestID: "o-\(burst)-\(index)", credential: otherToken)
                }
            }
            #expect(await gateway.published.waitFor((burst + 1) * 10, on: decisions, timeout: .seconds(120)))
        }
        let lock1 = gateway.published.messages.filter { $0.topic == decisions || $0.topic == commands }
        var expected: [String] = []
        for burst in 0..<300 { for index in 0..<10 { expected.append("r-\(burst)-\(index)") } }
        let decided = lock1.filter { $0.topic == decisions }.compactMap {
            TestGateway.json($0.payload)?["requestId"] as? String
        }
        #expect(decided.count == expected.count)
        let firstOutOfOrder = decided.indices.first { $0 < expected.count && decided[$0] != expected[$0] }
        #expect(firstOutOfOrder == nil, "first decision out of order: \(firstOutOfOrder.map { decided[$0] } ?? "-")")
        // Each grant's command follows its own decision, before the next decision.
        var pendingCommand: String?
        var outOfOrder = 0
        for message in lock1 {
            let json = TestGateway.json(message.payload) ?? [:]
            if message.topic == decisions {
                if pendingCommand != nil { outOfOrder += 1 }
                pendingCommand = json["commandId"] as? String
            } else {
                if json["commandId"] as? String != pendingCommand { outOfOrder += 1 }
                pendingCommand = nil
            }
        }
        #expect(outOfOrder == 0)
        await gateway.stop()
    }

    /// A lock that floods its request topic holds at most its lane; another lock is still decided.
    @Test func aFloodingLockCannotStarveAnotherAndItsExcessIsDroppedAndLogged() async throws {
        let gateway = try await TestGateway(maxRequestsPerS: 1_000_000, synchronous: .normal, logLevel: .warning)
        for index in 0..<5000 {
            gateway.send(requestID: "f-\(index)", credential: .pin("0000\(index % 10)"))
        }
        let floodTopic = gateway.topics.decision(lockID: "lock-1")
        let decision = await gateway.request(lockID: "lock-2", requestID: "q-1", credential: .pin("12345678"))
        #expect(decision?["reason"] as? String == "invalid_credential")
        await gateway.stop()  // decides what the lanes still hold
        // Lock-2 did not wait behind lock-1's full lane (64 requests, decided one at a time): it
        // was answered while lock-1 still had requests queued. Order, not timing: lock-1's lane
        // was full when lock-2's request arrived, however fast each decision is.
        let published = gateway.published.messages
        let secondAnswered = try #require(
            published.firstIndex { $0.topic == gateway.topics.decision(lockID: "lock-2") })
        let floodAnsweredAfter = published[secondAnswered...].filter { $0.topic == floodTopic }.count
        #expect(floodAnsweredAfter > 0)
        // The rest of the flood was dropped at the lane, not queued without bound, and said so.
        #expect(gateway.published.count(on: floodTopic) < 5000)
        #expect(gateway.logs.entries.contains { "\($0.message)" == "lane full: messages dropped" })
    }

    @Test func aRetainedRequestIsNeverDecided() async throws {
        let gateway = try await TestGateway()
        gateway.receive(
            gateway.topics.request(lockID: "lock-1"),
            AccessRequest(requestID: "r-old", credential: .pin("12345678")).payload, retain: true)
        _ = await gateway.request(requestID: "r-new", credential: .pin("12345678"))
        #expect(gateway.published.messages.allSatisfy { $0.payloadString?.contains("r-old") != true })
        await gateway.stop()
    }

    @Test func aGracefulStopDecidesEveryQueuedRequest() async throws {
        let gateway = try await TestGateway()
        for index in 0..<40 {
            gateway.send(lockID: "lock-\(index % 3 + 1)", requestID: "r-\(index)", credential: .pin("12345678"))
        }
        await gateway.stop()
        let decided = gateway.published.messages.filter { $0.topic.hasSuffix("/decision") }.count
        #expect(decided == 40)
        #expect(gateway.temporary.auditLog.head.seq == 40)
    }
}
