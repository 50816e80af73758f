import AccessCore
import AccessGateway
import AccessGatewayTesting
import AccessProtocol
import AccessTesting
import Foundation
import MQTT
import Testing

/// The operator and maintenance services in-process.
@Suite struct OperatorAndMaintenanceTests {
    static func signedUnlock(_ gateway: TestGateway, requestID: String, issuedAtMs: Int64? = nil) -> OperatorUnlock {
        OperatorUnlock(
            siteID: "site-1", gatewayID: "gw-1", requestID: requestID, lockID: "lock-1", operatorName: "alice",
            note: "locked out",
            issuedAtMs: issuedAtMs ?? Int64(Date().timeIntervalSince1970 * 1000),
            operatorKey: OperatorUnlock.operatorKey(siteKey: gateway.site.siteKey, siteID: "site-1"))
    }

    /// An operator's unlock of a device-profile lock goes out in the lock's dialect, not as a
    /// signed command no device reads.
    @Test func anOperatorUnlockOfANukiLockUnlatchesIt() async throws {
        let gateway = try await TestGateway(
            locks: ["lock-1@room-1 profile=nuki device=AB12", "lock-2@room-2", "lock-3@room-3"])
        defer { Task { await gateway.stop() } }
        gateway.receive(
            gateway.topics.operatorUnlock(gatewayID: "gw-1"), Self.signedUnlock(gateway, requestID: "op-n").payload)
        let action = await gateway.published.first { $0.topic == "nuki/AB12/lockAction" }
        #expect(action?.payloadString == "3")
        #expect(action?.properties.messageExpiryInterval != nil, "it expires with the command")
        #expect(gateway.published.count(on: gateway.topics.command(lockID: "lock-1")) == 0)
    }

    @Test func anOperatorUnlockIsAuditedThenCommandedAndAReplayIsRefused() async throws {
        let gateway = try await TestGateway()
        let unlock = Self.signedUnlock(gateway, requestID: "op-1")
        let topic = gateway.topics.operatorUnlock(gatewayID: "gw-1")
        gateway.receive(topic, unlock.payload)
        let reply = await gateway.published.first { $0.topic == gateway.topics.operatorResult(gatewayID: "gw-1") }
        let json = try #require(reply.flatMap { TestGateway.json($0.payload) })
        #expect(json["granted"] as? Bool == true && json["auditSeq"] as? Int == 1)
        #expect(gateway.published.count(on: gateway.topics.command(lockID: "lock-1")) == 1)
        // The same request again: refused, no second command (the stop drains the lane first).
        gateway.receive(topic, unlock.payload)
        await gateway.stop()
        #expect(gateway.published.count(on: gateway.topics.command(lockID: "lock-1")) == 1)
        #expect(gateway.temporary.auditLog.head.seq == 1)
    }

    @Test func aForgedOperatorUnlockIsRefusedAndNotAudited() async throws {
        let gateway = try await TestGateway()
        var unlock = Self.signedUnlock(gateway, requestID: "op-2")
        unlock.note = "changed after signing"
        gateway.receive(gateway.topics.operatorUnlock(gatewayID: "gw-1"), unlock.payload)
        let reply = await gateway.published.first { $0.topic == gateway.topics.operatorResult(gatewayID: "gw-1") }
        #expect(reply?.payloadString?.contains("\"reason\":\"refused\"") == true)
        #expect(gateway.temporary.auditLog.head.seq == 0)
        await gateway.stop()
    }

    @Test func theAuditHeadIsPublishedRetainedAtStop() async throws {
        let gateway = try await TestGateway()
        _ = await gateway.request(requestID: "r-1", credential: .pin("12345678"))
        await gateway.stop()
        let heads = gateway.published.messages(on: gateway.topics.auditHead(gatewayID: "gw-1"))
        let head = try #require(heads.last)
        #expect(head.retain)
        let json = try #require(TestGateway.json(head.payload))
        #expect(json["seq"] as? Int == 1 && json["hash"] as? String == gateway.temporary.auditLog.head.hash)
    }
}
