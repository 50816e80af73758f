import AccessProtocol

/// A smart light pole (lamp and sensors).
public struct Pole: Sendable, Hashable, Codable {
    public var id: String

    public init(id: String) {
        self.id = id
    }
}
