/// What applying one booking message did.
public enum BookingApplyOutcome: String, Sendable, Hashable {
    /// The message changed the store.
    case applied
    /// Its version is not higher than the stored one: a redelivery or an out-of-order message.
    case ignoredAsOlder = "ignored_as_older"
    /// A revoke of a `jti` that was already revoked.
    case unchanged
}
