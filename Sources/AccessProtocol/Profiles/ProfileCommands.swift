/// What the gateway sends a dialect device, as its vendor documents it. None of it is signed:
/// these devices verify nothing, so only the broker's ACL stands between a client and the door.
public enum ProfileCommands {
    /// The message that opens the door of `device` for `unlockForS` seconds.
    public static func unlock(
        _ profile: DeviceProfile, device: String, unlockForS: Int, topics: ProfileTopics
    ) -> (topic: String, payload: String)? {
        switch profile {
        case .contract:
            return nil
        case .esphomeWiegand:
            // The shipped board configuration pulses the strike relay for this many milliseconds.
            return (topics.esphomePulse(device: device), "\(max(1, unlockForS) * 1000)")
        case .tasmotaWiegand:
            // PulseTime1 turns Relay1 off by itself after the pulse; both in one Backlog, so the
            // relay never stays on with a stale pulse time.
            return (
                topics.tasmotaBacklog(device: device), "PulseTime1 \(tasmotaPulseTime(seconds: unlockForS));Power1 ON"
            )
        case .zigbee2mqtt:
            return (topics.zigbeeSet(device: device), #"{"state":"UNLOCK"}"#)
        case .nuki:
            // Lock action 3, unlatch: the door opens (1, unlock, would leave the latch shut).
            return (topics.nukiLockAction(device: device), "3")
        }
    }

    /// Tasmota's PulseTime: 1 to 111 in tenths of a second, 112 to 64900 as seconds plus 100.
    public static func tasmotaPulseTime(seconds: Int) -> Int {
        let seconds = min(max(seconds, 1), 64_800)
        return seconds * 10 <= 111 ? seconds * 10 : seconds + 100
    }

    /// Writes a PIN into a Zigbee lock's slot (Zigbee2MQTT `pin_code`).
    public static func zigbeeSetPIN(slot: Int, pin: String) -> String {
        CanonicalJSON.object([
            (
                "pin_code",
                .object([
                    ("user", .integer(Int64(slot))), ("user_type", .string("unrestricted")),
                    ("user_enabled", .bool(true)), ("pin_code", .string(pin)),
                ])
            )
        ])
    }

    /// Clears a slot: `pin_code` without a PIN.
    public static func zigbeeClearPIN(slot: Int) -> String {
        CanonicalJSON.object([("pin_code", .object([("user", .integer(Int64(slot)))]))])
    }

    /// Asks the lock for a slot's status; the answer comes in the state message's `users`.
    public static func zigbeeReadPIN(slot: Int) -> String {
        CanonicalJSON.object([("pin_code", .object([("user", .integer(Int64(slot)))]))])
    }
}
