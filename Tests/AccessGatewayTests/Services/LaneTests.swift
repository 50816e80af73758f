import Testing

@testable import AccessGateway

/// The lanes' bounds, without a consumer racing the producer: what a full lane refuses, what a
/// coalescing lane keeps, and that closing drains what is queued.
@Suite struct LaneTests {
    @Test func aFullFIFOLaneRefusesAndKeepsItsCapacity() async {
        let lane = FIFOLane<Int>(capacity: 4)
        let accepted = (0..<10).map { lane.offer($0) }
        #expect(accepted == [true, true, true, true, false, false, false, false, false, false])
        #expect(lane.count == 4)
        lane.close()
        #expect(!lane.offer(99))
        var drained: [Int] = []
        while let item = await lane.next() { drained.append(item) }
        #expect(drained == [0, 1, 2, 3])
    }

    @Test func aCoalescingLaneKeepsTheLatestPerKeyAndBoundsTheKeys() async {
        let lane = CoalescingLane<String, Int>(capacity: 2)
        #expect(lane.offer(1, for: "a") == .queued)
        #expect(lane.offer(2, for: "a") == .coalesced)
        #expect(lane.offer(3, for: "b") == .queued)
        #expect(lane.offer(4, for: "c") == .refused)
        #expect(lane.count == 2)
        lane.close()
        var drained: [String] = []
        while let (key, value) = await lane.next() { drained.append("\(key)=\(value)") }
        #expect(drained == ["a=2", "b=3"])
    }
}
