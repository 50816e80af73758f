import AccessProtocol

/// A site's inventory: the spaces, their locks and the poles that light them.
public struct Site: Sendable, Hashable {
    public var id: String
    public private(set) var spaces: SpaceInventory
    public private(set) var locks: LockInventory
    public private(set) var poles: [String: Pole]
    /// The spaces each pole lights, in id order: a pole's presence report finds its spaces here
    /// instead of scanning every space (50k of them on a large site) per message.
    public private(set) var spaceIDsByPole: [String: [String]]

    /// Checks every id against the identifier rule and every link against the inventory.
    public init(id: String, spaces: [Space], locks: [Lock], poles: [Pole]) throws(SiteError) {
        guard Identifier.isValid(id) else { throw .invalidIdentifier(kind: "site", id) }
        self.id = id
        self.spaces = SpaceInventory([])
        self.locks = LockInventory([])
        self.poles = [:]
        self.spaceIDsByPole = [:]
        for pole in poles {
            guard Identifier.isValid(pole.id) else { throw .invalidIdentifier(kind: "pole", pole.id) }
            guard self.poles.updateValue(pole, forKey: pole.id) == nil else { throw .duplicate(kind: "pole", pole.id) }
        }
        var spaceIDs = Set<String>()
        for space in spaces {
            guard Identifier.isValid(space.id) else { throw .invalidIdentifier(kind: "space", space.id) }
            for poleID in space.poleIDs where self.poles[poleID] == nil {
                throw .unknownReference(from: "space \(space.id)", to: "pole \(poleID)")
            }
            guard spaceIDs.insert(space.id).inserted else { throw .duplicate(kind: "space", space.id) }
        }
        self.spaces = SpaceInventory(spaces)
        for space in self.spaces.values {
            for poleID in Set(space.poleIDs) { spaceIDsByPole[poleID, default: []].append(space.id) }
        }
        var devices: [String: String] = [:]
        var lockIDs = Set<String>()
        for lock in locks {
            guard Identifier.isValid(lock.id) else { throw .invalidIdentifier(kind: "lock", lock.id) }
            guard spaceIDs.contains(lock.spaceID) else {
                throw .unknownReference(from: "lock \(lock.id)", to: "space \(lock.spaceID)")
            }
            try Self.checkProfile(lock)
            if let device = lock.device {
                // Two locks on one device topic would each open the other's door.
                let key = "\(lock.profile.rawValue)/\(device)"
                if let other = devices.updateValue(lock.id, forKey: key) {
                    throw .profile(lock: lock.id, "device \(device) is also lock \(other)'s")
                }
            }
            guard lockIDs.insert(lock.id).inserted else { throw .duplicate(kind: "lock", lock.id) }
        }
        self.locks = LockInventory(locks)
    }
}

extension Site {
    /// A dialect lock names its device (an identifier, so it is one topic level and fits an ACL);
    /// PIN slots only on a lock that has them, 1 to 250 of them within 0...65535.
    static func checkProfile(_ lock: Lock) throws(SiteError) {
        if lock.profile.needsDevice {
            guard let device = lock.device else {
                throw .profile(lock: lock.id, "profile \(lock.profile.rawValue) needs a device")
            }
            guard Identifier.isValid(device) else {
                throw .profile(lock: lock.id, "device \"\(device)\" breaks the identifier rule")
            }
        } else if lock.device != nil {
            throw .profile(lock: lock.id, "a contract lock has no device")
        }
        if let slots = lock.pinSlots {
            guard lock.profile.hasPINSlots else {
                throw .profile(lock: lock.id, "pin slots need a lock that keeps PINs (zigbee2mqtt)")
            }
            guard slots.lowerBound >= 0, slots.upperBound <= 65_535, slots.count <= Lock.maximumPINSlots else {
                throw .profile(lock: lock.id, "pin slots must lie in 0...65535, at most \(Lock.maximumPINSlots)")
            }
        }
    }
}

public enum SiteError: Error, Hashable, CustomStringConvertible {
    case invalidIdentifier(kind: String, String)
    case duplicate(kind: String, String)
    case unknownReference(from: String, to: String)
    case profile(lock: String, String)

    public var description: String {
        switch self {
        case .invalidIdentifier(let kind, let id):
            "\(kind) id \"\(id)\" breaks the identifier rule [A-Za-z0-9][A-Za-z0-9._-]{0,63}"
        case .duplicate(let kind, let id): "\(kind) \(id) is listed twice"
        case .unknownReference(let from, let to): "\(from) refers to \(to), which is not in the site"
        case .profile(let lock, let problem): "lock \(lock): \(problem)"
        }
    }
}
