import AccessProtocol
import Synchronization

/// What device reports tell the PIN push, handed over without waiting: slot statuses read from
/// a lock, keypad opens, and locks that came back. Bounded: beyond `capacity` entries the oldest
/// go (a slot read again later says the same; a lost keypad open is logged by the service).
final class PINPushInbox: Sendable {
    static let capacity = 1024

    struct Contents: Sendable {
        var slotReads: [(lockID: String, statuses: [Int: String])] = []
        var keypadOpens: [(lockID: String, open: ProfileReading.KeypadOpen)] = []
        var reconnected: Set<String> = []
        var dropped = 0
    }

    private let contents = Mutex(Contents())

    func slotsRead(lockID: String, _ statuses: [Int: String]) {
        contents.withLock { contents in
            if contents.slotReads.count >= Self.capacity {
                contents.slotReads.removeFirst()
                contents.dropped += 1
            }
            contents.slotReads.append((lockID, statuses))
        }
    }

    func keypadOpened(lockID: String, _ open: ProfileReading.KeypadOpen) {
        contents.withLock { contents in
            if contents.keypadOpens.count >= Self.capacity {
                contents.keypadOpens.removeFirst()
                contents.dropped += 1
            }
            contents.keypadOpens.append((lockID, open))
        }
    }

    func reconnected(lockID: String) {
        contents.withLock { contents in
            if contents.reconnected.count < Self.capacity { contents.reconnected.insert(lockID) }
        }
    }

    func take() -> Contents {
        contents.withLock { contents in
            defer { contents = Contents() }
            return contents
        }
    }
}
