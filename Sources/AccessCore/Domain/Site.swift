import AccessProtocol

/// A site's inventory: the spaces, their locks and the poles that light them.
public struct Site: Sendable, Hashable {
    public var id: String
    public private(set) var spaces: [String: Space]
    public private(set) var locks: [String: Lock]
    public private(set) var poles: [String: Pole]

    /// Checks every id against the identifier rule and every link against the inventory.
    public init(id: String, spaces: [Space], locks: [Lock], poles: [Pole]) throws(SiteError) {
        guard Identifier.isValid(id) else { throw .invalidIdentifier(kind: "site", id) }
        self.id = id
        self.spaces = [:]
        self.locks = [:]
        self.poles = [:]
        for pole in poles {
            guard Identifier.isValid(pole.id) else { throw .invalidIdentifier(kind: "pole", pole.id) }
            guard self.poles.updateValue(pole, forKey: pole.id) == nil else { throw .duplicate(kind: "pole", pole.id) }
        }
        for space in spaces {
            guard Identifier.isValid(space.id) else { throw .invalidIdentifier(kind: "space", space.id) }
            for poleID in space.poleIDs where self.poles[poleID] == nil {
                throw .unknownReference(from: "space \(space.id)", to: "pole \(poleID)")
            }
            guard self.spaces.updateValue(space, forKey: space.id) == nil else {
                throw .duplicate(kind: "space", space.id)
            }
        }
        for lock in locks {
            guard Identifier.isValid(lock.id) else { throw .invalidIdentifier(kind: "lock", lock.id) }
            guard self.spaces[lock.spaceID] != nil else {
                throw .unknownReference(from: "lock \(lock.id)", to: "space \(lock.spaceID)")
            }
            guard self.locks.updateValue(lock, forKey: lock.id) == nil else { throw .duplicate(kind: "lock", lock.id) }
        }
    }
}

public enum SiteError: Error, Hashable, CustomStringConvertible {
    case invalidIdentifier(kind: String, String)
    case duplicate(kind: String, String)
    case unknownReference(from: String, to: String)

    public var description: String {
        switch self {
        case .invalidIdentifier(let kind, let id):
            "\(kind) id \"\(id)\" breaks the identifier rule [A-Za-z0-9][A-Za-z0-9._-]{0,63}"
        case .duplicate(let kind, let id): "\(kind) \(id) is listed twice"
        case .unknownReference(let from, let to): "\(from) refers to \(to), which is not in the site"
        }
    }
}
