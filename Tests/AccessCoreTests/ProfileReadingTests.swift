import AccessCore
import AccessProtocol
import Testing

/// Each dialect's messages as its vendor documents them, and what does not match them.
struct ProfileReadingTests {
    func read(_ text: String, _ kind: ProfileInbound, pinDigits: Int = 8) -> ProfileReading? {
        ProfileReading.parse(Array(text.utf8), kind: kind, pinDigits: pinDigits)
    }

    @Test func esphomeCodesTagsAndStates() {
        #expect(read("12345678", .esphomeCode)?.credential == .success(.pin("12345678")))
        #expect(read("0042", .esphomeTag)?.credential == .success(.card("42")))
        for bad in ["12", "1234567890123", "12#4", ""] {
            #expect(read(bad, .esphomeCode)?.credential.map { (try? $0.get()) == nil } == true, "\(bad)")
        }
        #expect(read("0", .esphomeTag)?.credential == .failure(.init("card number 0 (a parity error)")))
        #expect(
            read("online", .esphomeStatus)?.reports == [.status(online: true, battery: nil, firmware: nil, rssi: nil)])
        #expect(read("ON", .esphomeStrike)?.unlatched == true)
        #expect(read("ON", .esphomeDoor)?.reports == [.door(open: true)])
        #expect(read("maybe", .esphomeStatus) == nil)
        #expect(read("on", .esphomeStrike) == nil, "ESPHome states are ON and OFF")
    }

    @Test func tasmotaRestoresAKeypadCodesLeadingZerosAndReadsHexCards() {
        // Tasmota sends the collected keys as one number: 00123456 arrives as 123456.
        let code = read(#"{"Time":"2026-11-30T10:00:00","Wiegand":{"UID":123456,"Size":4}}"#, .tasmotaSensor)
        #expect(code?.credential == .success(.pin("00123456")))
        let card = read(#"{"Time":"2026-11-30T10:00:00","Wiegand":{"UID":7748328,"Size":26}}"#, .tasmotaSensor)
        #expect(card?.credential == .success(.card("7748328")))
        let hex = read(#"{"Wiegand":{"UID":"763AE8h","Size":26}}"#, .tasmotaSensor)
        #expect(hex?.credential == .success(.card("7748328")))
        let parity = read(#"{"Wiegand":{"UID":0,"Size":26}}"#, .tasmotaSensor)
        #expect(parity?.credential.map { (try? $0.get()) == nil } == true)
        let size = read(#"{"Wiegand":{"UID":5,"Size":12}}"#, .tasmotaSensor)
        #expect(size?.credential.map { (try? $0.get()) == nil } == true)
        #expect(read(#"{"Switch1":"ON"}"#, .tasmotaSensor)?.reports == [.door(open: true)])
        #expect(read(#"{"Time":"x","DS18B20":{"Temperature":20}}"#, .tasmotaSensor) == nil, "no reading in it")
        #expect(
            read("Offline", .tasmotaWill)?.reports == [.status(online: false, battery: nil, firmware: nil, rssi: nil)])
        #expect(read("TOGGLE", .tasmotaPower) == nil)
    }

    @Test func zigbee2mqttStateActionsAndSlots() {
        let state = read(
            #"{"battery":87,"lock_state":"not_fully_locked","state":"UNLOCK","door_state":"open","linkquality":120}"#,
            .zigbeeState)
        #expect(
            state?.reports == [
                .status(online: true, battery: 87, firmware: nil, rssi: nil), .lockState("jammed"), .door(open: true),
            ])
        #expect(state?.unlatched == true)
        let keypad = read(#"{"action":"unlock","action_source_name":"keypad","action_user":3}"#, .zigbeeState)
        #expect(keypad?.keypadOpen?.slot == 3)
        let users = read(#"{"users":{"3":{"status":"enabled"},"4":{"status":"available"}}}"#, .zigbeeState)
        #expect(users?.slotStatuses == [3: "enabled", 4: "available"])
        #expect(read(#"{"state":"OPEN"}"#, .zigbeeState) == nil)
        #expect(read(#"{"battery":140}"#, .zigbeeState) == nil)
        #expect(read("[1,2]", .zigbeeState) == nil)
        #expect(read(#"{"state":"online"}"#, .zigbeeAvailability)?.reports.count == 1)
        #expect(read("online", .zigbeeAvailability)?.reports.count == 1)
    }

    @Test func nukiTopics() {
        #expect(read("1", .nukiState)?.reports == [.lockState("locked")])
        #expect(read("254", .nukiState)?.reports == [.lockState("jammed")])
        #expect(read("7", .nukiState)?.reports == [], "unlatching is a transition")
        #expect(read("3", .nukiDoorSensor)?.reports == [.door(open: true)])
        #expect(read("37", .nukiCommandResponse)?.commandResponse == 37)
        #expect(read("256", .nukiCommandResponse) == nil)
        #expect(read("-1", .nukiState) == nil)
        #expect(read("3,0,54321,12345,1", .nukiLockActionEvent)?.keypadOpen?.slot == 12345)
        #expect(read("3,172,0,0,0", .nukiLockActionEvent)?.keypadOpen == nil, "not the keypad")
        #expect(read("3,0,1", .nukiLockActionEvent) == nil)
        #expect(
            read("false", .nukiConnected)?.reports == [.status(online: false, battery: nil, firmware: nil, rssi: nil)])
    }

    @Test func commandsInEachDialect() {
        let topics = ProfileTopics()
        #expect(
            ProfileCommands.unlock(.esphomeWiegand, device: "d", unlockForS: 5, topics: topics)! == (
                "d/strike/pulse", "5000"
            ))
        #expect(
            ProfileCommands.unlock(.tasmotaWiegand, device: "d", unlockForS: 5, topics: topics)!
                == ("cmnd/d/Backlog", "PulseTime1 50;Power1 ON"))
        #expect(ProfileCommands.tasmotaPulseTime(seconds: 30) == 130, "over 11.1 s: seconds + 100")
        #expect(
            ProfileCommands.unlock(.zigbee2mqtt, device: "d", unlockForS: 5, topics: topics)! == (
                "zigbee2mqtt/d/set", #"{"state":"UNLOCK"}"#
            ))
        #expect(
            ProfileCommands.unlock(.nuki, device: "AB12", unlockForS: 5, topics: topics)! == (
                "nuki/AB12/lockAction", "3"
            ))
        #expect(ProfileCommands.unlock(.contract, device: "d", unlockForS: 5, topics: topics) == nil)
        #expect(
            ProfileCommands.zigbeeSetPIN(slot: 3, pin: "0123")
                == #"{"pin_code":{"pin_code":"0123","user":3,"user_enabled":true,"user_type":"unrestricted"}}"#)
        #expect(ProfileCommands.zigbeeClearPIN(slot: 3) == #"{"pin_code":{"user":3}}"#)
    }

    @Test func aSiteRefusesAProfileLockWithoutADeviceOrWithAnothersDevice() {
        let spaces = [Space(id: "room-1")]
        #expect(throws: SiteError.self) {
            try Site(id: "s", spaces: spaces, locks: [Lock(id: "l", spaceID: "room-1", profile: .nuki)], poles: [])
        }
        #expect(throws: SiteError.self) {
            try Site(
                id: "s", spaces: spaces,
                locks: [
                    Lock(id: "a", spaceID: "room-1", profile: .nuki, device: "AB"),
                    Lock(id: "b", spaceID: "room-1", profile: .nuki, device: "AB"),
                ], poles: [])
        }
        #expect(throws: SiteError.self) {
            try Site(
                id: "s", spaces: spaces,
                locks: [Lock(id: "a", spaceID: "room-1", profile: .nuki, device: "AB", pinSlots: 1...3)],
                poles: [])
        }
        #expect(throws: SiteError.self) {
            try Site(
                id: "s", spaces: spaces,
                locks: [Lock(id: "a", spaceID: "room-1", profile: .zigbee2mqtt, device: "z/1")],
                poles: [])
        }
    }

    @Test func aCardOpensOnlyForItsHoldersCurrentReservationOfTheLocksSpace() {
        let lock = Lock(id: "l", spaceID: "room-1", profile: .esphomeWiegand, device: "d")
        let now: Int64 = 1_800_000_000_000
        let current = Reservation(
            id: "a", spaceID: "room-1", holder: "u-1", startMs: now - 1000, endMs: now + 1000, version: 1)
        let later = Reservation(
            id: "b", spaceID: "room-1", holder: "u-1", startMs: now + 5000, endMs: now + 9000, version: 1)
        #expect(
            AccessRules.evaluateCard(holder: "u-1", lock: lock, reservations: [later, current], nowMs: now).reason
                == .granted)
        #expect(
            AccessRules.evaluateCard(holder: "u-1", lock: lock, reservations: [later], nowMs: now).reason
                == .notYetValid)
        #expect(
            AccessRules.evaluateCard(holder: "u-2", lock: lock, reservations: [current], nowMs: now).reason
                == .unknownReservation)
        #expect(
            AccessRules.evaluateCard(holder: nil, lock: lock, reservations: [], nowMs: now).reason == .invalidCredential
        )
        let index = CardIndex(siteKey: .init(size: .bits256), siteID: "s")
        #expect(index.digest(card: "42").count == 16)
        #expect(
            CardIndex.normalized("000042") == "42" && CardIndex.normalized("0") == nil
                && CardIndex.normalized("4a") == nil)
    }
}
