import AccessCore
import AccessProtocol
import GRDB

/// Bulk import of booking messages from NDJSON (one message per line), in batched transactions.
///
/// Every line is parsed and validated before its batch is written, so a bad line is reported
/// with its number and skipped while the rest still applies; a batch commits whole or not at
/// all, so a process killed mid-import leaves every batch either fully applied or absent, and
/// running the import again completes it (messages are idempotent by version).
public struct BookingImport: Sendable {
    public struct RejectedLine: Sendable, Hashable {
        public var line: Int
        public var problem: String
    }

    public struct Summary: Sendable, Hashable {
        public var lines = 0
        public var applied = 0
        public var ignoredAsOlder = 0
        public var unchanged = 0
        public var rejected: [RejectedLine] = []
        public var batches = 0
    }

    public var batchSize: Int
    /// Grace minutes for lines that leave them out.
    public var defaults: BookingDefaults
    /// Called after each committed batch with the running summary (progress on long imports).
    public var progress: (@Sendable (Summary) -> Void)?

    public init(
        batchSize: Int = 2000, defaults: BookingDefaults = BookingDefaults(),
        progress: (@Sendable (Summary) -> Void)? = nil
    ) {
        self.batchSize = max(1, batchSize)
        self.defaults = defaults
        self.progress = progress
    }

    /// Checks every line without writing anything: the lines that would be rejected.
    public func validate(ndjson bytes: [UInt8]) -> [RejectedLine] {
        var rejected: [RejectedLine] = []
        Self.forEachLine(of: bytes) { number, line in
            if case .failure(let error) = BookingMessage.parse(line, defaults: defaults) {
                rejected.append(RejectedLine(line: number, problem: error.problem))
            }
        }
        return rejected
    }

    /// Calls `body` with each non-blank line and its 1-based number; `\r\n` endings are accepted.
    static func forEachLine(of bytes: [UInt8], _ body: (Int, ArraySlice<UInt8>) throws -> Void) rethrows {
        var lineStart = 0
        var lineNumber = 0
        while lineStart < bytes.count {
            let lineEnd = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            lineNumber += 1
            var line = bytes[lineStart..<lineEnd]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            lineStart = lineEnd + 1
            if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { continue }
            try body(lineNumber, line)
        }
    }

    /// Imports NDJSON bytes; blank lines are skipped, `\r\n` endings are accepted.
    public func run(ndjson bytes: [UInt8], into store: AccessStore, nowMs: Int64) throws -> Summary {
        var summary = Summary()
        var batch: [BookingMessage] = []
        batch.reserveCapacity(batchSize)
        try Self.forEachLine(of: bytes) { number, line in
            summary.lines += 1
            switch BookingMessage.parse(line, defaults: defaults) {
            case .success(let message): batch.append(message)
            case .failure(let error): summary.rejected.append(RejectedLine(line: number, problem: error.problem))
            }
            if batch.count >= batchSize {
                try commit(batch, into: store, nowMs: nowMs, summary: &summary)
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty { try commit(batch, into: store, nowMs: nowMs, summary: &summary) }
        return summary
    }

    private func commit(
        _ batch: [BookingMessage], into store: AccessStore, nowMs: Int64, summary: inout Summary
    ) throws {
        let pinIndex = store.pinIndex
        let outcomes = try store.pool.write { db in
            try batch.map { try AccessStore.apply($0, nowMs: nowMs, pinIndex: pinIndex, in: db) }
        }
        for outcome in outcomes {
            switch outcome {
            case .applied: summary.applied += 1
            case .ignoredAsOlder: summary.ignoredAsOlder += 1
            case .unchanged: summary.unchanged += 1
            }
        }
        summary.batches += 1
        progress?(summary)
    }
}
