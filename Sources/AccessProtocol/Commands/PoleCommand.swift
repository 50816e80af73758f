import Crypto

/// A MAC-signed `light` command to a pole (contract, "Light poles").
public struct PoleCommand: Sendable, Hashable {
    public var commandID: String
    public var action: String
    public var level: Int
    public var forS: Int
    public var issuedAtMs: Int64
    public var notAfterMs: Int64
    public var mac: String

    public init(
        siteID: String, poleID: String, commandID: String, level: Int, forS: Int, issuedAtMs: Int64, ttlMs: Int64,
        poleKey: SymmetricKey
    ) {
        self.commandID = commandID
        self.action = "light"
        self.level = min(100, max(0, level))
        self.forS = forS
        self.issuedAtMs = issuedAtMs
        self.notAfterMs = issuedAtMs + ttlMs
        let canonical = CommandMAC.poleCanonical(
            siteID: siteID, poleID: poleID, commandID: commandID, action: action, level: self.level, forS: forS,
            issuedAt: issuedAtMs, notAfter: notAfterMs)
        self.mac = CommandMAC.mac(canonical: canonical, key: poleKey)
    }

    public var payload: String {
        CanonicalJSON.object([
            ("commandId", .string(commandID)),
            ("action", .string(action)),
            ("level", .integer(Int64(level))),
            ("forS", .integer(Int64(forS))),
            ("issuedAt", .integer(issuedAtMs)),
            ("notAfter", .integer(notAfterMs)),
            ("mac", .string(mac)),
        ])
    }
}
