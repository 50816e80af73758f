/// A reservation is `confirmed` or `cancelled` (contract, "Bookings").
public enum ReservationStatus: String, Sendable, Hashable, Codable {
    case confirmed
    case cancelled
}
