/// A booked slot of a space, as the store holds it. Times are Unix milliseconds; grace periods
/// are seconds (the wire carries minutes).
public struct Reservation: Sendable, Hashable {
    public var id: String
    public var spaceID: String
    public var holder: String
    public var startMs: Int64
    public var endMs: Int64
    public var status: ReservationStatus
    public var version: Int64
    public var graceBeforeS: Int64
    public var graceAfterS: Int64
    public var singleUse: Bool
    /// A single-use reservation that has opened the door once; stays spent across later versions.
    public var spent: Bool

    public init(
        id: String, spaceID: String, holder: String, startMs: Int64, endMs: Int64,
        status: ReservationStatus = .confirmed, version: Int64 = 1, graceBeforeS: Int64 = 0, graceAfterS: Int64 = 0,
        singleUse: Bool = false, spent: Bool = false
    ) {
        self.id = id
        self.spaceID = spaceID
        self.holder = holder
        self.startMs = startMs
        self.endMs = endMs
        self.status = status
        self.version = version
        self.graceBeforeS = graceBeforeS
        self.graceAfterS = graceAfterS
        self.singleUse = singleUse
        self.spent = spent
    }

    /// First instant the door may open: `start - graceBefore`.
    public var windowStartMs: Int64 { startMs - graceBeforeS * 1000 }
    /// Last instant the door may open: `end + graceAfter` (inclusive).
    public var windowEndMs: Int64 { endMs + graceAfterS * 1000 }

    /// Whole seconds (floor), as the PIN derivation uses them.
    public var startUnixS: Int64 { Self.floorSeconds(startMs) }
    public var endUnixS: Int64 { Self.floorSeconds(endMs) }

    static func floorSeconds(_ milliseconds: Int64) -> Int64 {
        milliseconds >= 0 ? milliseconds / 1000 : -((-milliseconds + 999) / 1000)
    }
}
