import AccessCore
import Crypto
import Testing

/// The PIN is the contract's formula, whatever the length, the identifiers and the window
/// (negative seconds included), against a plain implementation of it.
@Suite struct KeypadPINTests {
    /// "Keypad PIN" as the contract writes it, with nothing prepared or written in place.
    func contractPIN(
        key: SymmetricKey, siteID: String, spaceID: String, reservationID: String, start: Int64, end: Int64, digits: Int
    )
        -> String
    {
        let message = "pin\n\(siteID)\n\(spaceID)\n\(reservationID)\n\(start)\n\(end)"
        let code = Array(HMAC<SHA256>.authenticationCode(for: Array(message.utf8), using: key))
        let value = code.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        var modulus: UInt64 = 1
        for _ in 0..<digits { modulus *= 10 }
        let text = String(value % modulus)
        return String(repeating: "0", count: digits - text.count) + text
    }

    @Test func everyLengthAndWindowGivesTheContractsPIN() {
        var generator = SystemRandomNumberGenerator()
        let key = SymmetricKey(size: .bits256)
        for digits in 4...12 {
            let pins = KeypadPIN(pinKey: key, siteID: "site-1", digits: digits)
            for _ in 0..<50 {
                let start = Int64.random(in: -2_000_000_000...4_000_000_000, using: &generator)
                let end = start + Int64.random(in: 0...86_400, using: &generator)
                let reservationID = "b-\(UInt32.random(in: 0...UInt32.max, using: &generator))"
                let pin = pins.pin(spaceID: "room-ü", reservationID: reservationID, startUnixS: start, endUnixS: end)
                #expect(pin.count == digits)
                #expect(
                    pin
                        == contractPIN(
                            key: key, siteID: "site-1", spaceID: "room-ü", reservationID: reservationID, start: start,
                            end: end, digits: digits))
            }
        }
    }
}
