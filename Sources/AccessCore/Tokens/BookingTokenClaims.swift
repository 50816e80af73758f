import AccessProtocol

/// The claims of a verified booking token (contract, "Booking token"). Every one is required.
public struct BookingTokenClaims: Sendable, Hashable {
    public var issuer: String
    /// `sub`: the holder id.
    public var holder: String
    /// `rid`: the reservation id.
    public var reservationID: String
    /// `spc`: the space id.
    public var spaceID: String
    /// `iat`, `nbf`, `exp` in seconds (NumericDate; fractions allowed).
    public var issuedAtS: Double
    public var notBeforeS: Double
    public var expiresS: Double
    public var jti: String

    public init(
        issuer: String, holder: String, reservationID: String, spaceID: String, issuedAtS: Double, notBeforeS: Double,
        expiresS: Double, jti: String
    ) {
        self.issuer = issuer
        self.holder = holder
        self.reservationID = reservationID
        self.spaceID = spaceID
        self.issuedAtS = issuedAtS
        self.notBeforeS = notBeforeS
        self.expiresS = expiresS
        self.jti = jti
    }
}
