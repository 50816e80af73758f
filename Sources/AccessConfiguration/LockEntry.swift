import AccessCore
import AccessProtocol

/// A `site.locks` entry: `lockId@spaceId`, then optionally ` profile=NAME device=NAME
/// slots=FIRST-LAST` (docs/devices.md), for example
/// `door-3@gym profile=zigbee2mqtt device=gym_door slots=10-29`.
public enum LockEntry {
    public struct Problem: Error, CustomStringConvertible {
        public var description: String
    }

    public static func parse(_ entry: String) throws(Problem) -> Lock {
        let words = entry.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard let first = words.first else { throw Problem(description: "an empty entry") }
        let parts = first.split(separator: "@").map(String.init)
        guard parts.count == 2 else { throw Problem(description: "\"\(entry)\" must start with lockId@spaceId") }
        var lock = Lock(id: parts[0], spaceID: parts[1])
        for word in words.dropFirst() {
            let pair = word.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { throw Problem(description: "\"\(word)\" in \"\(entry)\" is not key=value") }
            switch pair[0] {
            case "profile":
                guard let profile = DeviceProfile(rawValue: pair[1]) else {
                    let known = DeviceProfile.allCases.map(\.rawValue).joined(separator: ", ")
                    throw Problem(description: "profile \"\(pair[1])\" of lock \(lock.id) is not one of \(known)")
                }
                lock.profile = profile
            case "device":
                lock.device = pair[1]
            case "slots":
                guard let slots = slotRange(pair[1]) else {
                    throw Problem(description: "slots \"\(pair[1])\" of lock \(lock.id) must be FIRST-LAST")
                }
                lock.pinSlots = slots
            default:
                throw Problem(description: "\"\(pair[0])\" in \"\(entry)\" is not profile, device or slots")
            }
        }
        return lock
    }

    /// `10-29` (or a single `10`).
    public static func slotRange(_ text: String) -> ClosedRange<Int>? {
        let bounds = text.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
        switch bounds.count {
        case 1: return bounds[0].map { $0...$0 }
        case 2:
            guard let low = bounds[0], let high = bounds[1], low <= high else { return nil }
            return low...high
        default: return nil
        }
    }
}
