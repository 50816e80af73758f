import AccessCore
import AccessProtocol
import Crypto
import Foundation

/// What a lock's firmware does with a command (contract, "Command"): it executes only when the
/// MAC verifies with its own derived key, `issuedAt - 5000 <= now <= notAfter` on its own clock,
/// and the `commandId` was never executed before. Pure: the simulator performs the result.
public struct LockFirmware: @unchecked Sendable {
    // SymmetricKey is immutable; swift-crypto 3 just does not declare it Sendable.
    public let siteID: String
    public let lockID: String
    private let lockKey: SymmetricKey
    /// Commands executed, newest last; bounded, older ids age out after their notAfter anyway.
    private var executed: [String: Int64] = [:]

    public enum Result: String, Sendable, Hashable {
        case executed, expired, replayed, unsupported
        case badMAC = "bad_mac"
    }

    public init(siteID: String, lockID: String, lockKey: SymmetricKey) {
        self.siteID = siteID
        self.lockID = lockID
        self.lockKey = lockKey
    }

    /// The command's id (when it has one) and what the lock does with it.
    public mutating func receive(_ payload: [UInt8], nowMs: Int64) -> (commandID: String?, result: Result) {
        guard let command = try? JSONDecoder().decode(Command.self, from: Data(payload)) else {
            return (nil, .unsupported)
        }
        guard command.action == "unlock" || command.action == "lock" else { return (command.commandId, .unsupported) }
        let canonical = CommandMAC.lockCanonical(
            siteID: siteID, lockID: lockID, commandID: command.commandId, action: command.action,
            unlockForS: command.unlockForS ?? 0, issuedAt: command.issuedAt, notAfter: command.notAfter)
        guard CommandMAC.verify(mac: command.mac, canonical: canonical, key: lockKey) else {
            return (command.commandId, .badMAC)
        }
        guard command.issuedAt - 5000 <= nowMs, nowMs <= command.notAfter else { return (command.commandId, .expired) }
        guard executed[command.commandId] == nil else { return (command.commandId, .replayed) }
        executed[command.commandId] = command.notAfter
        // Forget ids whose commands can no longer be fresh: they could only come back as expired.
        if executed.count > 1024 { executed = executed.filter { $0.value >= nowMs - 5000 } }
        return (command.commandId, .executed)
    }

    struct Command: Decodable {
        var commandId: String
        var action: String
        var unlockForS: Int?
        var issuedAt: Int64
        var notAfter: Int64
        var mac: String
    }
}
