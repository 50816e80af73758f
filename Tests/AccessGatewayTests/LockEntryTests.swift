import AccessConfiguration
import AccessCore
import AccessProtocol
import Testing

/// `site.locks` entries with a device profile, and what a mistyped one says.
struct LockEntryTests {
    @Test func anEntryNamesItsProfileDeviceAndSlots() throws {
        #expect(try LockEntry.parse("lock-1@room-1") == Lock(id: "lock-1", spaceID: "room-1"))
        #expect(
            try LockEntry.parse("door-4@room-1  profile=zigbee2mqtt device=front_door slots=10-29")
                == Lock(id: "door-4", spaceID: "room-1", profile: .zigbee2mqtt, device: "front_door", pinSlots: 10...29)
        )
        #expect(try LockEntry.parse("d@r profile=nuki device=AB12").profile == .nuki)
    }

    @Test(arguments: [
        ("lock-1", "lockId@spaceId"), ("d@r profile=august device=x", "is not one of contract, esphome-wiegand"),
        ("d@r profile=zigbee2mqtt device=x slots=9-3", "FIRST-LAST"),
        ("d@r colour=red", "not profile, device or slots"),
        ("d@r profile", "not key=value"),
    ])
    func aBadEntrySaysWhatIsWrong(entry: String, says: String) {
        #expect {
            _ = try LockEntry.parse(entry)
        } throws: { error in
            "\(error)".contains(says)
        }
    }
}
