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
        var start = bytes.startIndex
        var number = 0
        while let (lineNumber, line, next) = nextLine(of: bytes, from: start, number: number) {
            try body(lineNumber, line)
            (start, number) = (next, lineNumber)
        }
    }

    /// The next non-blank line at or after `start` (the line before it had `number`): its number,
    /// its bytes without the ending, and where the line after it starts; nil at the end.
    static func nextLine(of bytes: [UInt8], from start: Int, number: Int) -> (Int, ArraySlice<UInt8>, Int)? {
        var lineStart = start
        var lineNumber = number
        while lineStart < bytes.count {
            let lineEnd = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            lineNumber += 1
            var line = bytes[lineStart..<lineEnd]
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            lineStart = lineEnd + 1
            if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) { continue }
            return (lineNumber, line, lineStart)
        }
        return nil
    }

    /// Imports NDJSON bytes; blank lines are skipped, `\r\n` endings are accepted.
    public func run(ndjson bytes: [UInt8], into store: AccessStore, nowMs: Int64) throws -> Summary {
        var summary = Summary()
        var batch: [BookingMessage] = []
        batch.reserveCapacity(batchSize)
        let commit = { (batch: [BookingMessage], summary: inout Summary) in
            summary.count(try store.apply(batch, nowMs: nowMs))
            progress?(summary)
        }
        try Self.forEachLine(of: bytes) { number, line in
            if let full = take(number, line, into: &batch, summary: &summary) { try commit(full, &summary) }
        }
        if !batch.isEmpty { try commit(batch, &summary) }
        return summary
    }

    /// Imports NDJSON bytes through `apply`, one call per batch, which applies the batch whole or
    /// not at all and returns each message's outcome (the shared database's import).
    public func run(
        ndjson bytes: [UInt8], applying apply: ([BookingMessage]) async throws -> [BookingApplyOutcome]
    ) async throws -> Summary {
        var summary = Summary()
        var batch: [BookingMessage] = []
        batch.reserveCapacity(batchSize)
        var (start, previous) = (bytes.startIndex, 0)
        while let (number, line, next) = Self.nextLine(of: bytes, from: start, number: previous) {
            (start, previous) = (next, number)
            if let full = take(number, line, into: &batch, summary: &summary) {
                summary.count(try await apply(full))
                progress?(summary)
            }
        }
        if !batch.isEmpty {
            summary.count(try await apply(batch))
            progress?(summary)
        }
        return summary
    }

    /// Parses one line into the batch (or its rejection into the summary); the batch when full.
    private func take(
        _ number: Int, _ line: ArraySlice<UInt8>, into batch: inout [BookingMessage], summary: inout Summary
    ) -> [BookingMessage]? {
        summary.lines += 1
        switch BookingMessage.parse(line, defaults: defaults) {
        case .success(let message): batch.append(message)
        case .failure(let error): summary.rejected.append(RejectedLine(line: number, problem: error.problem))
        }
        guard batch.count >= batchSize else { return nil }
        defer { batch.removeAll(keepingCapacity: true) }
        return batch
    }
}

extension BookingImport.Summary {
    mutating func count(_ outcomes: [BookingApplyOutcome]) {
        for outcome in outcomes {
            switch outcome {
            case .applied: applied += 1
            case .ignoredAsOlder: ignoredAsOlder += 1
            case .unchanged: unchanged += 1
            }
        }
        batches += 1
    }
}
