import AccessProtocol

/// What the store knows about a verified token's `jti` and `rid`, looked up before the rules run.
public struct TokenFacts: Sendable, Hashable {
    public var jtiRevoked: Bool
    /// The reservation named by `rid`, if the store has it.
    public var reservation: Reservation?
    /// A cancel arrived for `rid` before any upsert (a tombstone).
    public var reservationTombstoned: Bool

    public init(jtiRevoked: Bool = false, reservation: Reservation? = nil, reservationTombstoned: Bool = false) {
        self.jtiRevoked = jtiRevoked
        self.reservation = reservation
        self.reservationTombstoned = reservationTombstoned
    }
}
