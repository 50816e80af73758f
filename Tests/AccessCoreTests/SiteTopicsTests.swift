import AccessProtocol
import Testing

@Suite struct SiteTopicsTests {
    let topics = SiteTopics(prefix: "access", siteID: "site-1")

    @Test func inboundTopicsAreClassifiedExactly() {
        #expect(topics.classify("access/site-1/locks/lock-1/request") == .request(lockID: "lock-1"))
        #expect(topics.classify("access/site-1/bookings") == .bookings)
        #expect(topics.classify("access/site-1/gateway/gw-1/operator/unlock") == .operatorUnlock(gatewayID: "gw-1"))
        #expect(topics.classify("access/site-1/locks/lock-1/request/extra") == nil)
        #expect(topics.classify("access/site-1/locks/lock-1") == nil)
        #expect(topics.classify("access/site-2/locks/lock-1/request") == nil)
        #expect(topics.classify("access/site-1/gateway/gw-1/status") == nil)
    }

    @Test func responseTopicsStayUnderTheLocksOwnBranch() {
        #expect(topics.isAcceptableResponseTopic("access/site-1/locks/lock-1/reply", lockID: "lock-1"))
        #expect(!topics.isAcceptableResponseTopic("access/site-1/locks/lock-2/reply", lockID: "lock-1"))
        #expect(!topics.isAcceptableResponseTopic("access/site-1/locks/lock-1/#", lockID: "lock-1"))
        #expect(!topics.isAcceptableResponseTopic("access/site-1/locks/lock-1/", lockID: "lock-1"))
        #expect(!topics.isAcceptableResponseTopic("access/site-1/alarms", lockID: "lock-1"))
    }
}
