/// A message of the booking backend (contract, "Bookings"), validated whole.
public enum BookingMessage: Sendable, Hashable {
    /// A new or changed reservation; applied only if its version is higher than the stored one.
    case upsert(Reservation)
    /// Cancels a reservation at this version (kept as a tombstone when the id is unknown).
    case cancel(reservationID: String, version: Int64)
    /// Revokes a token by its `jti`.
    case revoke(jti: String)
    /// (v1.1) The end of a backend's full republication: every message up to `seq` is covered.
    /// Valid only on the gateway's own answer topic, never on `R/bookings` nor in an import.
    case resync(seq: Int64)

    public static let maximumPayloadBytes = 64 * 1024
}

/// Why a booking message was rejected whole.
public struct BookingMessageError: Error, Sendable, Hashable, CustomStringConvertible {
    public var problem: String

    public init(_ problem: String) {
        self.problem = problem
    }

    public var description: String { problem }
}

/// Site defaults for what a booking message may leave out.
public struct BookingDefaults: Sendable, Hashable {
    public var graceBeforeMin: Int64
    public var graceAfterMin: Int64

    public init(graceBeforeMin: Int64 = 0, graceAfterMin: Int64 = 0) {
        self.graceBeforeMin = graceBeforeMin
        self.graceAfterMin = graceAfterMin
    }
}
