import AccessCore
import AccessProtocol

/// An audit record as committed: its place in the chain and its hash.
public struct CommittedAuditRecord: Sendable, Hashable {
    public var record: AuditRecord
    public var hash: String

    public var seq: Int64 { record.seq }

    public init(record: AuditRecord, hash: String) {
        self.record = record
        self.hash = hash
    }
}
