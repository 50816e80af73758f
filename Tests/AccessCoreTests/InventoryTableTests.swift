import AccessCore
import AccessProtocol
import AccessTesting
import Testing

/// The inventory's locks in id order, and the per-lock state kept in that order.
@Suite struct InventoryTableTests {
    func lock(_ id: String, in spaceID: String = "room-1") -> Lock { Lock(id: id, spaceID: spaceID) }

    @Test func findsEveryLockByIDAndNoOther() {
        let ids = (0..<1000).map { "lock-\(($0 * 7919) % 1000)" }
        let inventory = LockInventory(ids.map { lock($0) })
        #expect(inventory.count == 1000)
        #expect(inventory.keys == ids.sorted())
        for id in ids {
            let index = inventory.index(of: id)
            #expect(index.map { inventory[$0].id } == id)
            #expect(inventory[id]?.id == id)
        }
        for missing in ["", "lock-", "lock-1000", "lock-0 ", "LOCK-1", "a", "zzz"] {
            #expect(inventory.index(of: missing) == nil, "\(missing)")
        }
        #expect(LockInventory([]).index(of: "lock-1") == nil)
    }

    @Test func ofAnIDListedTwiceTheFirstIsKept() {
        let inventory = LockInventory([lock("b", in: "one"), lock("a"), lock("b", in: "two")])
        #expect(inventory.keys == ["a", "b"])
        #expect(inventory["b"]?.spaceID == "one")
    }

    @Test func spacesAreFoundTheSameWay() throws {
        let site = try Site(
            id: "site-1", spaces: [Space(id: "room-b", poleIDs: ["pole-1"]), Space(id: "room-a")],
            locks: [lock("lock-1", in: "room-b")], poles: [Pole(id: "pole-1")])
        #expect(site.spaces.keys == ["room-a", "room-b"])
        #expect(site.spaces["room-b"]?.poleIDs == ["pole-1"] && site.spaces["room-c"] == nil)
        #expect(throws: SiteError.unknownReference(from: "lock lock-2", to: "space room-c")) {
            try Site(id: "site-1", spaces: [Space(id: "room-a")], locks: [lock("lock-2", in: "room-c")], poles: [])
        }
        #expect(throws: SiteError.duplicate(kind: "space", "room-a")) {
            try Site(id: "site-1", spaces: [Space(id: "room-a"), Space(id: "room-a")], locks: [], poles: [])
        }
    }

    /// A pole's presence report lights the spaces it belongs to, found without a scan: each pole
    /// maps to its spaces in id order, once each even when a space lists it twice.
    @Test func eachPoleKnowsItsSpaces() throws {
        let site = try Site(
            id: "site-1",
            spaces: [
                Space(id: "room-c", poleIDs: ["pole-1", "pole-2"]), Space(id: "room-a", poleIDs: ["pole-1", "pole-1"]),
                Space(id: "room-b"),
            ],
            locks: [], poles: [Pole(id: "pole-1"), Pole(id: "pole-2"), Pole(id: "pole-3")])
        #expect(site.spaceIDsByPole["pole-1"] == ["room-a", "room-c"])
        #expect(site.spaceIDsByPole["pole-2"] == ["room-c"])
        #expect(site.spaceIDsByPole["pole-3"] == nil && site.spaceIDsByPole["pole-9"] == nil)
    }

    @Test func aSiteRefusesALockListedTwice() {
        #expect(throws: SiteError.duplicate(kind: "lock", "lock-1")) {
            try Site(
                id: "site-1", spaces: [Space(id: "room-1", poleIDs: [])],
                locks: [lock("lock-1"), lock("lock-1")], poles: [])
        }
    }

    @Test func alarmKindsAreASetOfEveryKind() {
        var kinds: AlarmKinds = []
        #expect(kinds.isEmpty)
        for kind in Alarm.Kind.allCases {
            #expect(!kinds.contains(kind))
            kinds.insert(kind)
            #expect(kinds.contains(kind))
        }
        #expect(kinds.asSet == Set(Alarm.Kind.allCases))
        #expect(kinds.sorted.map(\.rawValue) == Alarm.Kind.allCases.map(\.rawValue).sorted())
        #expect(kinds.remove(.tamper) == .tamper)
        #expect(kinds.remove(.tamper) == nil)
        #expect(!kinds.contains(.tamper) && kinds.contains(.jammed))
    }

    /// A reload that adds locks before one in id order moves its place in the arrays; its open
    /// alarm and its health must move with it, and a new lock starts clean.
    @Test func aReloadKeepsEachLocksHealthWhereverItMoves() throws {
        let space = Space(id: "room-1", poleIDs: [])
        let before = try Site(id: "site-1", spaces: [space], locks: [lock("m"), lock("z")], poles: [])
        var monitor = DeviceMonitor(site: before, policy: AlarmPolicy(), unlockForS: 5, startMs: 0)
        _ = monitor.lockReport(.status(online: true, battery: 80, firmware: nil, rssi: nil), lockID: "z", nowMs: 1000)
        _ = monitor.lockReport(.lockState("locked"), lockID: "z", nowMs: 1000)
        _ = monitor.lockReport(.lockAlarm("tamper"), lockID: "m", nowMs: 1000)
        #expect(monitor.activeAlarms(lockID: "m") == [.tamper])

        let after = try Site(id: "site-1", spaces: [space], locks: [lock("a"), lock("m"), lock("z")], poles: [])
        monitor.replaceSite(after, nowMs: 2000)
        #expect(monitor.lockIDs == ["a", "m", "z"])
        #expect(monitor.activeAlarms(lockID: "m") == [.tamper])
        #expect(monitor.activeAlarms(lockID: "a").isEmpty && monitor.activeAlarms(lockID: "z").isEmpty)
        #expect(monitor.lockView("z")?.battery == 80 && monitor.lockView("z")?.lockState == "locked")
        #expect(monitor.lockView("a")?.online == nil)
        #expect(monitor.lockView("gone") == nil)

        monitor.replaceSite(try Site(id: "site-1", spaces: [space], locks: [lock("z")], poles: []), nowMs: 3000)
        #expect(monitor.lockIDs == ["z"] && monitor.lockView("m") == nil)
        #expect(monitor.lockView("z")?.battery == 80)
    }
}
