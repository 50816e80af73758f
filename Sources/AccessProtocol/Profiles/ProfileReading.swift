/// What one dialect message said, in the gateway's terms. A message carries any mix of these
/// (a Zigbee2MQTT state message holds the lock state, the door, the battery and a keypad action).
public struct ProfileReading: Sendable, Hashable {
    /// A code or card read at the door, or why it does not parse (audited as `malformed`).
    public var credential: Result<Credential, CredentialProblem>?
    /// Status, door and lock-state reports, as a contract lock would send them.
    public var reports: [DeviceReport] = []
    /// The strike relay or the lock's bolt: true once it is open (an unlock was carried out).
    public var unlatched: Bool?
    /// Nuki's `commandResponse`: 0 success, else the BLE API's error code.
    public var commandResponse: Int?
    /// The lock opened by itself for a PIN slot of its own keypad (Zigbee `action_user`, Nuki
    /// keypad code id): audited with the slot's reservation.
    public var keypadOpen: KeypadOpen?
    /// Zigbee2MQTT's `users`: each read slot's status (`available`, `enabled`, `disabled`...).
    public var slotStatuses: [Int: String] = [:]

    public init() {}

    public struct CredentialProblem: Error, Sendable, Hashable {
        public var problem: String
        public init(_ problem: String) { self.problem = problem }
    }

    public struct KeypadOpen: Sendable, Hashable {
        /// The lock's slot (Zigbee user number) or Nuki's keypad code id.
        public var slot: Int
        /// What the device said, for the audit note (no PIN is ever in it).
        public var description: String

        public init(slot: Int, description: String) {
            self.slot = slot
            self.description = description
        }
    }

    public var isEmpty: Bool {
        credential == nil && reports.isEmpty && unlatched == nil && commandResponse == nil && keypadOpen == nil
            && slotStatuses.isEmpty
    }
}
