import Crypto

/// A MAC-signed command to a lock (contract, "Command").
public struct LockCommand: Sendable, Hashable {
    public var commandID: String
    public var action: String
    public var requestID: String?
    public var unlockForS: Int
    public var issuedAtMs: Int64
    public var notAfterMs: Int64
    public var mac: String

    /// Signs an `unlock` (or `lock`) with the lock's derived key.
    public init(
        siteID: String, lockID: String, commandID: String, action: String = "unlock", requestID: String?,
        unlockForS: Int, issuedAtMs: Int64, ttlMs: Int64, lockKey: SymmetricKey
    ) {
        self.init(
            siteID: siteID, lockID: lockID, commandID: commandID, action: action, requestID: requestID,
            unlockForS: unlockForS, issuedAtMs: issuedAtMs, ttlMs: ttlMs, lockKey: PreparedHMAC(key: lockKey))
    }

    /// Signs with the lock's key already set up (the engine keeps those of the locks in use).
    public init(
        siteID: String, lockID: String, commandID: String, action: String = "unlock", requestID: String?,
        unlockForS: Int, issuedAtMs: Int64, ttlMs: Int64, lockKey: PreparedHMAC
    ) {
        self.commandID = commandID
        self.action = action
        self.requestID = requestID
        self.unlockForS = unlockForS
        self.issuedAtMs = issuedAtMs
        self.notAfterMs = issuedAtMs + ttlMs
        let canonical = CommandMAC.lockCanonical(
            siteID: siteID, lockID: lockID, commandID: commandID, action: action, unlockForS: unlockForS,
            issuedAt: issuedAtMs, notAfter: notAfterMs)
        self.mac = CommandMAC.mac(canonical: canonical, key: lockKey)
    }

    public var payload: String {
        // Keys in JCS order (one command per grant).
        var writer = CanonicalObjectWriter()
        writer.string("action", action)
        writer.string("commandId", commandID)
        writer.integer("issuedAt", issuedAtMs)
        writer.string("mac", mac)
        writer.integer("notAfter", notAfterMs)
        writer.string("requestId", requestID)
        writer.integer("unlockForS", Int64(unlockForS))
        return writer.finish()
    }

    /// The MQTT v5 Message Expiry Interval: whole seconds left until `notAfter`, rounded up;
    /// nil when the command is already stale and must not be sent.
    public func messageExpiryS(nowMs: Int64) -> UInt32? {
        guard nowMs < notAfterMs else { return nil }
        return UInt32(clamping: (notAfterMs - nowMs + 999) / 1000)
    }
}
