import AccessProtocol

/// A smart lock: the door of exactly one space.
public struct Lock: Sendable, Hashable, Codable {
    public var id: String
    public var spaceID: String

    public init(id: String, spaceID: String) {
        self.id = id
        self.spaceID = spaceID
    }
}
