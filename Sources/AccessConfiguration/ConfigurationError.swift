/// A configuration the daemon refuses to start with: the key and the reason.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var key: String
    public var reason: String

    public init(_ key: String, _ reason: String) {
        self.key = key
        self.reason = reason
    }

    public var description: String { "\(key): \(reason)" }
}
