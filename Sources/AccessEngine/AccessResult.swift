import AccessCore
import AccessProtocol
import AccessStore

/// What the engine made of one access request.
public enum AccessResult: Sendable {
    /// Step 1: the lock id in the topic breaks the identifier rule. No decision, no audit.
    case dropped
    /// A decision, audited (unless auditing itself failed), and the command for a grant.
    case decided(AccessDecided)
}

public struct AccessDecided: Sendable {
    public var decision: Decision
    /// The signed unlock for a grant; publish it only after the decision was audited (it was).
    public var command: LockCommand?
    /// The committed audit record; nil only when the audit write failed (then the decision is
    /// `internal_error`).
    public var audit: CommittedAuditRecord?
    /// Set when this request started a PIN lockout (the `brute_force` alarm).
    public var lockoutStartedS: Int64?
    /// For logs and metrics: why the payload was malformed or the token rejected. Never a secret.
    public var detail: String?
    /// The lock's space, when the lock is configured (welcome lighting, alarms).
    public var spaceID: String?
}
