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
        #expect(topics.classify("access/site-1/poles/pole-1/telemetry") == .poleTelemetry(poleID: "pole-1"))
        #expect(topics.classify("access/site-1/locks/lock-1/status") == .lockStatus(lockID: "lock-1"))
        #expect(
            topics.classify("access/site-1/gateway/gw-1/homeassistant/locks/lock-1/set")
                == .homeAssistantSet(gatewayID: "gw-1", lockID: "lock-1"))
        #expect(topics.classify("access/site-1/gateway/gw-1/homeassistant/locks/lock-1/set/x") == nil)
        #expect(topics.classify("access/site-1") == nil && topics.classify("access/site-10/bookings") == nil)
        #expect(topics.classify("access/site-1/locks//request") == .request(lockID: ""))
        // The broker splits levels at the byte "/", even before a combining mark: so does this.
        #expect(topics.classify("access/site-1/locks/lock-1/\u{301}request") == nil)
        #expect(topics.classify("access/site-1/locks/a/\u{301}/request") == nil)
    }

    @Test func responseTopicsStayUnderTheLocksOwnBranch() {
        #expect(topics.isAcceptableResponseTopic("access/site-1/locks/lock-1/reply", lockID: "lock-1"))
        #expect(!topics.isAcceptableResponseTopic("access/site-1/locks/lock-2/reply", lockID: "lock-1"))
        #expect(!topics.isAcceptableResponseTopic("access/site-1/locks/lock-1/#", lockID: "lock-1"))
        #expect(!topics.isAcceptableResponseTopic("access/site-1/locks/lock-1/", lockID: "lock-1"))
        #expect(!topics.isAcceptableResponseTopic("access/site-1/alarms", lockID: "lock-1"))
    }
}
