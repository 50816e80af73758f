import AccessProtocol
import Crypto

/// The audit hash chain: `hash = lowercase hex SHA-256(prevHash + canonical(record))`, with
/// `prevHash` 64 zeros before the first record and `seq` counting from 1 with no gaps.
public enum AuditChain {
    public static let genesisHash = String(repeating: "0", count: 64)

    public static func hash(previous: String, canonical: String) -> String {
        var hasher = SHA256()
        hasher.update(data: Array(previous.utf8))
        hasher.update(data: Array(canonical.utf8))
        return hexString(hasher.finalize())
    }

    // Inlinable so that each caller iterates its own byte sequence without witness calls; the
    // digits are computed, not looked up in an array made at each call.
    @inlinable
    public static func hexString(_ bytes: some Sequence<UInt8>) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            output.append(hexDigit(byte >> 4))
            output.append(hexDigit(byte & 0x0F))
        }
        return String(decoding: output, as: UTF8.self)
    }

    @usableFromInline
    static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }

    /// The first break found while re-walking a chain.
    public enum Break: Sendable, Hashable, CustomStringConvertible {
        /// A sequence number is missing, repeated or out of order (a deleted or reordered record).
        case sequenceGap(expected: Int64, found: Int64)
        /// The stored hash does not match the record's contents (an edited or reordered record).
        case hashMismatch(seq: Int64)
        /// The chain ends before the head that was published for it (records cut off the end).
        case truncated(lastSeq: Int64, publishedSeq: Int64)

        public var description: String {
            switch self {
            case .sequenceGap(let expected, let found): "record \(found) where \(expected) was expected"
            case .hashMismatch(let seq): "record \(seq) does not match its hash"
            case .truncated(let last, let published): "the chain ends at \(last) but \(published) was published"
            }
        }
    }

    /// Walks records in stored order, carrying the running hash between calls.
    public struct Walker: Sendable {
        public private(set) var previousHash = AuditChain.genesisHash
        public private(set) var nextSeq: Int64 = 1

        public init() {}

        public mutating func check(_ record: AuditRecord, storedHash: String) -> Break? {
            guard record.seq == nextSeq else { return .sequenceGap(expected: nextSeq, found: record.seq) }
            let expected = AuditChain.hash(previous: previousHash, canonical: record.canonical)
            guard expected == storedHash else { return .hashMismatch(seq: record.seq) }
            previousHash = storedHash
            nextSeq += 1
            return nil
        }
    }
}
