import AccessProtocol

/// A smart lock: the door of exactly one space, and how its hardware speaks MQTT.
public struct Lock: Sendable, Hashable, Codable {
    public var id: String
    public var spaceID: String
    /// `contract` (the default) or a dialect of hardware on the market (docs/devices.md).
    public var profile: DeviceProfile
    /// The dialect device's own name in its topics; nil for a contract lock.
    public var device: String?
    /// A Zigbee lock's PIN slots the gateway owns and fills ahead of each reservation (PIN push);
    /// nil: no push, the lock's own codes are left alone.
    public var pinSlots: ClosedRange<Int>?

    public init(
        id: String, spaceID: String, profile: DeviceProfile = .contract, device: String? = nil,
        pinSlots: ClosedRange<Int>? = nil
    ) {
        self.id = id
        self.spaceID = spaceID
        self.profile = profile
        self.device = device
        self.pinSlots = pinSlots
    }

    /// The largest slot range one lock may hand the gateway (Zigbee locks keep 30 to 250).
    public static let maximumPINSlots = 250
}
