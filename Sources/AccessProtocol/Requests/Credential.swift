/// What a person presented at the door.
public enum Credential: Sendable, Hashable {
    /// A booking token: a JWS compact JWT, at most 4096 bytes.
    case token(String)
    /// A keypad PIN: 4 to 12 ASCII digits.
    case pin(String)
    /// A card or tag number read by a Wiegand reader, in decimal (1 to 20 digits, no leading
    /// zero). Only a device profile's reader presents one (docs/devices.md): the contract's
    /// request parser keeps refusing `card`, so no contract lock can present a card number.
    case card(String)

    /// The wire name of the credential type, as in the request and the audit record.
    public var typeName: String {
        switch self {
        case .token: "token"
        case .pin: "pin"
        case .card: "card"
        }
    }
}
