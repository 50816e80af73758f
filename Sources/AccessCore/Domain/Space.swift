import AccessProtocol

/// A bookable space (room, gym, studio) and the light poles near its entrance.
public struct Space: Sendable, Hashable, Codable {
    public var id: String
    public var poleIDs: [String]

    public init(id: String, poleIDs: [String] = []) {
        self.id = id
        self.poleIDs = poleIDs
    }
}
