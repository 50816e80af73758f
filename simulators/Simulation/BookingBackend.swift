import AccessCore
import AccessProtocol
import Crypto
import Foundation

/// The booking backend as a real one behaves: it holds its own Ed25519 issuer key and the
/// shared `pinKey`, publishes reservations, and hands each holder a token and a PIN.
public struct BookingBackend: @unchecked Sendable {
    // Keys are immutable; swift-crypto 3 just does not declare them Sendable.
    public let siteID: String
    public let kid: String
    public let issuer: String
    public let privateKey: Curve25519.Signing.PrivateKey
    public let pins: KeypadPIN

    public init(
        siteID: String, kid: String, issuer: String, privateKey: Curve25519.Signing.PrivateKey, pinKey: SymmetricKey,
        pinDigits: Int = 8
    ) {
        self.siteID = siteID
        self.kid = kid
        self.issuer = issuer
        self.privateKey = privateKey
        self.pins = KeypadPIN(pinKey: pinKey, siteID: siteID, digits: pinDigits)
    }

    /// The line for the gateway's `issuers` setting.
    public var issuerSetting: String {
        "\(kid) \(issuer) \(Base64URL.encode(Array(privateKey.publicKey.rawRepresentation)))"
    }

    public func token(for reservation: Reservation, jti: String, notBeforeS: Int64? = nil, expiresS: Int64? = nil)
        throws -> String
    {
        let claims = BookingTokenSigner.claims(
            issuer: issuer, holder: reservation.holder, reservationID: reservation.id, spaceID: reservation.spaceID,
            issuedAtS: reservation.windowStartMs / 1000, notBeforeS: notBeforeS ?? reservation.windowStartMs / 1000,
            expiresS: expiresS ?? (reservation.windowEndMs + 999) / 1000, jti: jti)
        return try BookingTokenSigner.sign(
            header: BookingTokenSigner.header(kid: kid), claims: claims, privateKey: privateKey)
    }

    /// A token with the right shape signed by a key that is not this issuer's.
    public func forgedToken(for reservation: Reservation, jti: String) throws -> String {
        let other = BookingBackend(
            siteID: siteID, kid: kid, issuer: issuer, privateKey: .init(), pinKey: SymmetricKey(size: .bits256))
        return try other.token(for: reservation, jti: jti)
    }

    public func pin(for reservation: Reservation) -> String {
        pins.pin(
            spaceID: reservation.spaceID, reservationID: reservation.id, startUnixS: reservation.startUnixS,
            endUnixS: reservation.endUnixS)
    }
}
