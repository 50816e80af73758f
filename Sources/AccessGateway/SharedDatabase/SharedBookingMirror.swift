import AccessProtocol
import Synchronization

/// Booking messages the gateway applied to its own store, on their way into the shared database
/// (`database.kind: postgres`). Every gateway of the site mirrors every message; the database
/// applies each once (its `seq` and the version rule). Bounded: when it overflows (the database
/// away for long under a stream of bookings) nothing more is queued, decisions are held off the
/// database, and the whole local store is replayed into it once it answers again, so that no
/// cancel is ever lost on the way.
final class SharedBookingMirror: Sendable {
    static let capacity = 100_000

    struct Item: Sendable {
        var message: BookingMessage
        var seq: Int64?
    }

    let lane = FIFOLane<Item>(capacity: SharedBookingMirror.capacity)
    /// Set on overflow until the replay of the local store has finished.
    let needsReplay = Atomic<Bool>(false)

    func offer(_ message: BookingMessage, seq: Int64?) {
        guard !needsReplay.load(ordering: .acquiring) else { return }
        if !lane.offer(Item(message: message, seq: seq)) {
            needsReplay.store(true, ordering: .releasing)
        }
    }
}
