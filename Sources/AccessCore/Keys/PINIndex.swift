import AccessProtocol
import Crypto

/// Keyed digests of keypad PINs, so the store can find a PIN's reservations through an index
/// without holding any PIN: the key is derived from `pinKey`, so a stolen database alone
/// reveals no PIN (an 8-digit space is otherwise searched in seconds).
public struct PINIndex: @unchecked Sendable {
    // SymmetricKey is immutable once made; swift-crypto 3 just does not declare it Sendable.
    private let indexKey: SymmetricKey
    private let prepared: PreparedHMAC
    public let pins: KeypadPIN

    public init(pins: KeypadPIN, pinKey: SymmetricKey) {
        self.pins = pins
        let label = Array("pin-index\n\(pins.siteID)".utf8)
        indexKey = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: label, using: pinKey)))
        prepared = PreparedHMAC(key: indexKey)
    }

    /// 16 bytes of `HMAC-SHA256(indexKey, pin)`.
    public func digest(pin: String) -> [UInt8] {
        Array(prepared.code(for: Array(pin.utf8)).prefix(16))
    }

    /// The digest of a reservation's own PIN.
    public func digest(of reservation: Reservation) -> [UInt8] {
        digest(
            pin: pins.pin(
                spaceID: reservation.spaceID, reservationID: reservation.id, startUnixS: reservation.startUnixS,
                endUnixS: reservation.endUnixS))
    }

    /// Names the index key and PIN length without revealing either, so a store can tell that its
    /// digests were made with other settings and must be rebuilt.
    public var fingerprint: String {
        let label = Array("fingerprint\n\(pins.digits)".utf8)
        return AuditChain.hexString(HMAC<SHA256>.authenticationCode(for: label, using: indexKey).prefix(8))
    }
}
