/// The contract's decision reasons. Only `granted` opens a door.
public enum DecisionReason: String, Sendable, Hashable, CaseIterable, Codable {
    case granted
    case malformed
    case unknownLock = "unknown_lock"
    case invalidCredential = "invalid_credential"
    case wrongSpace = "wrong_space"
    case unknownReservation = "unknown_reservation"
    case holderMismatch = "holder_mismatch"
    case cancelled
    case notYetValid = "not_yet_valid"
    case expired
    case revoked
    case alreadyUsed = "already_used"
    case lockedOut = "locked_out"
    case rateLimited = "rate_limited"
    case internalError = "internal_error"
    /// (v1.1) Too old to act on: it waited too long inside the gateway, or its `ts` is too far
    /// behind the gateway's clock. Carries `retryAfterS`; never a command.
    case busy

    public var isGrant: Bool { self == .granted }
}
