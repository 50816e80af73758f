import AccessCore
import AccessProtocol
import Crypto
import Foundation

/// A light pole's firmware: the ambient light over a (possibly accelerated) day, and MAC-checked
/// `light` commands with the same freshness and replay rules as a lock.
public struct PoleFirmware: @unchecked Sendable {
    // SymmetricKey is immutable; swift-crypto 3 just does not declare it Sendable.
    public let siteID: String
    public let poleID: String
    private let poleKey: SymmetricKey
    private var executed: Set<String> = []
    public private(set) var lightLevel = 0

    public init(siteID: String, poleID: String, poleKey: SymmetricKey) {
        self.siteID = siteID
        self.poleID = poleID
        self.poleKey = poleKey
    }

    /// Ambient lux at a time of day (seconds since midnight): ~0.5 lux at night, up to ~20,000
    /// at noon, with dawn at 06:00 and dusk at 18:00.
    public static func ambientLux(secondOfDay: Int64) -> Double {
        let hours = Double(secondOfDay % 86_400) / 3600
        guard hours > 6, hours < 18 else { return 0.5 }
        let sun = sin((hours - 6) / 12 * Double.pi)
        return max(0.5, 20_000 * sun * sun)
    }

    public mutating func receive(_ payload: [UInt8], nowMs: Int64) -> (commandID: String?, result: LockFirmware.Result)
    {
        guard let command = try? JSONDecoder().decode(Command.self, from: Data(payload)), command.action == "light"
        else {
            return (nil, .unsupported)
        }
        let canonical = CommandMAC.poleCanonical(
            siteID: siteID, poleID: poleID, commandID: command.commandId, action: command.action, level: command.level,
            forS: command.forS, issuedAt: command.issuedAt, notAfter: command.notAfter)
        guard CommandMAC.verify(mac: command.mac, canonical: canonical, key: poleKey) else {
            return (command.commandId, .badMAC)
        }
        guard command.issuedAt - 5000 <= nowMs, nowMs <= command.notAfter else { return (command.commandId, .expired) }
        guard executed.insert(command.commandId).inserted else { return (command.commandId, .replayed) }
        lightLevel = command.level
        return (command.commandId, .executed)
    }

    struct Command: Decodable {
        var commandId: String
        var action: String
        var level: Int
        var forS: Int
        var issuedAt: Int64
        var notAfter: Int64
        var mac: String
    }
}
