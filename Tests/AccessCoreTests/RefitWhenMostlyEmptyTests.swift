import AccessCore
import Testing

/// Tables that follow the locks in use give back the buckets of locks no longer in use.
@Suite struct RefitWhenMostlyEmptyTests {
    @Test func aMostlyEmptiedDictionaryIsRefittedWithItsElements() {
        var table: [String: Int] = [:]
        for index in 0..<50_000 { table["lock-\(index)"] = index }
        let large = table.capacity
        for index in 100..<50_000 { table["lock-\(index)"] = nil }
        #expect(table.capacity == large, "removing keeps the buckets")
        table.refitWhenMostlyEmpty()
        #expect(table.capacity < large / 16)
        #expect(table.count == 100 && (0..<100).allSatisfy { (index: Int) in table["lock-\(index)"] == index })
    }

    @Test func aSmallOrFullTableIsLeftAsItIs() {
        var small: Set<Int> = [1, 2, 3]
        let smallCapacity = small.capacity
        small.refitWhenMostlyEmpty()
        #expect(small.capacity == smallCapacity)
        var full = Set(0..<20_000)
        let fullCapacity = full.capacity
        full.refitWhenMostlyEmpty()
        #expect(full.capacity == fullCapacity && full.count == 20_000)
    }
}
