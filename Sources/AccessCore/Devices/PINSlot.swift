/// One slot of a Zigbee lock's PIN table, as the gateway filled it (stored, so a restart knows
/// which PINs it left in the lock).
public struct PINSlot: Sendable, Hashable {
    public enum State: String, Sendable, Hashable {
        /// Empty as far as the gateway knows.
        case free
        /// A PIN was written; the lock has not yet said the slot is enabled.
        case pushing
        /// The lock said the slot holds it.
        case held
        /// A clear was sent; the lock has not yet said the slot is available.
        case clearing
    }

    public var slot: Int
    public var reservationID: String?
    public var state: State
    /// Writes or clears sent without confirmation, in a row (backoff, alarm at `failingAfter`).
    public var attempts: Int
    public var sentMs: Int64?
    public var nextTryMs: Int64

    public init(
        slot: Int, reservationID: String? = nil, state: State = .free, attempts: Int = 0, sentMs: Int64? = nil,
        nextTryMs: Int64 = 0
    ) {
        self.slot = slot
        self.reservationID = reservationID
        self.state = state
        self.attempts = attempts
        self.sentMs = sentMs
        self.nextTryMs = nextTryMs
    }
}
