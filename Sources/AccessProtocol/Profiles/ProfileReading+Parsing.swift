#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

extension ProfileReading {
    public static let maximumPayloadBytes = 8 * 1024

    /// Parses one dialect message; nil when it does not match the dialect (dropped and counted).
    /// `pinDigits` restores a Tasmota keypad code's leading zeros (Tasmota sends the digits as
    /// one decimal number, so `00123456` arrives as `123456`).
    public static func parse(_ payload: [UInt8], kind: ProfileInbound, pinDigits: Int) -> ProfileReading? {
        guard payload.count <= maximumPayloadBytes, let text = String(validating: payload, as: UTF8.self) else {
            return nil
        }
        let word = text.trimmingCharacters(in: .whitespacesAndNewlines)
        var reading = ProfileReading()
        switch kind {
        case .esphomeCode:
            reading.credential = keypadCode(word)
        case .esphomeTag:
            reading.credential = cardNumber(word)
        case .esphomeStatus:
            guard let online = onOff(word, on: "online", off: "offline") else { return nil }
            reading.reports = [.status(online: online, battery: nil, firmware: nil, rssi: nil)]
        case .esphomeStrike, .tasmotaPower:
            guard let on = onOff(word, on: "ON", off: "OFF") else { return nil }
            reading.unlatched = on
            reading.reports = [.lockState(on ? "unlocked" : "locked")]
        case .esphomeDoor:
            // A binary_sensor of device_class door: ON is open.
            guard let open = onOff(word, on: "ON", off: "OFF") else { return nil }
            reading.reports = [.door(open: open)]
        case .tasmotaWill:
            guard let online = onOff(word, on: "Online", off: "Offline") else { return nil }
            reading.reports = [.status(online: online, battery: nil, firmware: nil, rssi: nil)]
        case .tasmotaSensor:
            return tasmotaSensor(payload, pinDigits: pinDigits)
        case .zigbeeState:
            return zigbeeState(payload)
        case .zigbeeAvailability:
            // `{"state":"online"}` (Zigbee2MQTT 1.27 on) or the legacy plain `online`.
            if let online = onOff(word, on: "online", off: "offline") {
                reading.reports = [.status(online: online, battery: nil, firmware: nil, rssi: nil)]
            } else if let availability = try? JSONDecoder().decode(ZigbeeAvailability.self, from: Data(payload)),
                let online = onOff(availability.state, on: "online", off: "offline")
            {
                reading.reports = [.status(online: online, battery: nil, firmware: nil, rssi: nil)]
            } else {
                return nil
            }
        case .nukiState:
            guard let state = smallInteger(word) else { return nil }
            // Nuki lock states: 1 locked, 3 unlocked, 5 unlatched, 6 unlocked (lock'n'go),
            // 254 motor blocked; the others are transitions or unknown and report nothing.
            switch state {
            case 1: reading.reports = [.lockState("locked")]
            case 3, 5, 6: reading.reports = [.lockState("unlocked")]
            case 254: reading.reports = [.lockState("jammed")]
            default: break
            }
        case .nukiDoorSensor:
            guard let state = smallInteger(word) else { return nil }
            // 2 door closed, 3 door opened; the others (deactivated, unknown, calibrating...) say nothing.
            if state == 2 { reading.reports = [.door(open: false)] }
            if state == 3 { reading.reports = [.door(open: true)] }
        case .nukiBatteryCritical:
            guard onOff(word, on: "true", off: "false") != nil else { return nil }
        case .nukiBatteryCharge:
            guard let percent = smallInteger(word), percent <= 100 else { return nil }
            reading.reports = [.status(online: true, battery: percent, firmware: nil, rssi: nil)]
        case .nukiConnected:
            guard let online = onOff(word, on: "true", off: "false") else { return nil }
            reading.reports = [.status(online: online, battery: nil, firmware: nil, rssi: nil)]
        case .nukiCommandResponse:
            guard let code = smallInteger(word) else { return nil }
            reading.commandResponse = code
        case .nukiLockActionEvent:
            // LockAction,Trigger,Auth-ID,Code-ID,Auto-Unlock|presses|keypad source.
            let fields = word.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == 5, let action = smallInteger(String(fields[0])),
                let trigger = smallInteger(String(fields[1])), let authID = UInt32(fields[2]),
                let codeID = UInt32(fields[3]), let source = smallInteger(String(fields[4]))
            else { return nil }
            // An unlock or unlatch (1, 3, 5) from a keypad code: the lock opened by itself.
            if [1, 3, 5].contains(action), codeID != 0, let slot = Int(exactly: codeID) {
                reading.keypadOpen = KeypadOpen(
                    slot: slot,
                    description:
                        "nuki lockActionEvent action \(action), trigger \(trigger), auth \(authID), code \(codeID), source \(source)"
                )
            }
        }
        return reading
    }

    // MARK: Credentials

    /// 4 to 12 ASCII digits.
    static func keypadCode(_ word: String) -> Result<Credential, CredentialProblem> {
        let digits = word.utf8
        guard (4...12).contains(digits.count), digits.allSatisfy({ (48...57).contains($0) }) else {
            return .failure(CredentialProblem("code is not 4 to 12 digits"))
        }
        return .success(.pin(word))
    }

    /// A card number in decimal, 1 to 20 digits, leading zeros dropped; 0 is what a reader sends
    /// on a parity error.
    static func cardNumber(_ word: String) -> Result<Credential, CredentialProblem> {
        let digits = word.utf8
        guard (1...20).contains(digits.count), digits.allSatisfy({ (48...57).contains($0) }) else {
            return .failure(CredentialProblem("card number is not 1 to 20 digits"))
        }
        let trimmed = String(word.drop { $0 == "0" })
        guard !trimmed.isEmpty else { return .failure(CredentialProblem("card number 0 (a parity error)")) }
        return .success(.card(trimmed))
    }

    /// Tasmota's `{"Time":…,"Wiegand":{"UID":7748328,"Size":26}}`: sizes 4 and 8 are a keypad
    /// code collected up to `#` (SetOption124 0), 24 to 34 a card (UID in decimal, or in hex as
    /// `"1A2Bh"` with SetOption123 1). `Switch1` is the door contact (ON: open).
    static func tasmotaSensor(_ payload: [UInt8], pinDigits: Int) -> ProfileReading? {
        guard let sensor = try? JSONDecoder().decode(TasmotaSensor.self, from: Data(payload)) else { return nil }
        var reading = ProfileReading()
        if let door = sensor.Switch1 {
            guard let open = onOff(door, on: "ON", off: "OFF") else { return nil }
            reading.reports = [.door(open: open)]
        }
        if let wiegand = sensor.Wiegand {
            guard let uid = wiegand.UID, let size = wiegand.Size else {
                reading.credential = .failure(CredentialProblem("Wiegand reading without UID or Size"))
                return reading
            }
            switch size {
            case 4, 8:
                var code = String(uid)
                if code.count < pinDigits { code = String(repeating: "0", count: pinDigits - code.count) + code }
                reading.credential = keypadCode(code)
            case 24, 26, 32, 34:
                reading.credential =
                    uid == 0 ? .failure(CredentialProblem("card number 0 (a parity error)")) : cardNumber(String(uid))
            default:
                reading.credential = .failure(CredentialProblem("Wiegand size \(size) is neither a keypad nor a card"))
            }
        }
        return reading.isEmpty ? nil : reading
    }

    /// A Zigbee2MQTT lock's state message (its converters `lock`, `lock_operation_event`,
    /// `lock_pin_code_response`, `battery`).
    static func zigbeeState(_ payload: [UInt8]) -> ProfileReading? {
        guard let state = try? JSONDecoder().decode(ZigbeeState.self, from: Data(payload)) else { return nil }
        var reading = ProfileReading()
        if let battery = state.battery {
            guard battery >= 0, battery <= 100 else { return nil }
            reading.reports.append(.status(online: true, battery: Int(battery), firmware: nil, rssi: nil))
        }
        switch state.lock_state {
        case nil: break
        case "locked": reading.reports.append(.lockState("locked"))
        case "unlocked": reading.reports.append(.lockState("unlocked"))
        // The bolt did not go home: the contract's `jammed`.
        case "not_fully_locked": reading.reports.append(.lockState("jammed"))
        default: return nil
        }
        switch state.state {
        case nil: break
        case "LOCK": reading.unlatched = false
        case "UNLOCK": reading.unlatched = true
        default: return nil
        }
        switch state.door_state {
        case nil, "undefined", "error_unspecified": break
        case "open": reading.reports.append(.door(open: true))
        case "closed": reading.reports.append(.door(open: false))
        case "error_jammed": reading.reports.append(.lockState("jammed"))
        case "error_forced_open": reading.reports.append(.lockAlarm("forced_open"))
        default: return nil
        }
        if state.action == "unlock", state.action_source_name == "keypad", let user = state.action_user {
            reading.keypadOpen = KeypadOpen(
                slot: user, description: "zigbee2mqtt action unlock, source keypad, user \(user)")
        }
        for (key, user) in state.users ?? [:] {
            guard let slot = Int(key), slot >= 0, slot <= 65_535, let status = user.status, status.utf8.count <= 64
            else { return nil }
            reading.slotStatuses[slot] = status
        }
        return reading
    }

    // MARK: Words

    static func onOff(_ word: String, on: String, off: String) -> Bool? {
        if word == on { return true }
        if word == off { return false }
        return nil
    }

    /// 0 to 255, as Nuki sends its codes and states.
    static func smallInteger(_ word: String) -> Int? {
        guard (1...3).contains(word.utf8.count), word.utf8.allSatisfy({ (48...57).contains($0) }),
            let value = Int(word),
            value <= 255
        else { return nil }
        return value
    }

    // Field names as the devices spell them.
    // swift-format-ignore: AlwaysUseLowerCamelCase
    private struct TasmotaSensor: Decodable {
        var Wiegand: TasmotaWiegand?
        var Switch1: String?
    }

    // swift-format-ignore: AlwaysUseLowerCamelCase
    private struct TasmotaWiegand: Decodable {
        var UID: UInt64?
        var Size: Int?

        enum CodingKeys: String, CodingKey { case UID, Size }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            Size = try container.decodeIfPresent(Int.self, forKey: .Size)
            if let number = try? container.decodeIfPresent(UInt64.self, forKey: .UID) {
                UID = number
            } else if let hex = try container.decodeIfPresent(String.self, forKey: .UID), hex.hasSuffix("h"),
                let number = UInt64(hex.dropLast(), radix: 16)
            {
                UID = number
            } else {
                UID = nil
            }
        }
    }

    // swift-format-ignore: AlwaysUseLowerCamelCase
    private struct ZigbeeState: Decodable {
        var state: String?
        var lock_state: String?
        var door_state: String?
        var battery: Double?
        var action: String?
        var action_user: Int?
        var action_source_name: String?
        var users: [String: ZigbeeUser]?
    }

    private struct ZigbeeUser: Decodable {
        var status: String?
    }

    private struct ZigbeeAvailability: Decodable {
        var state: String
    }
}
