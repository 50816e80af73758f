import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Log lines for journald: under systemd (`$JOURNAL_STREAM` set) each line starts with the
/// syslog priority (`<6>`) and carries no timestamp, since the journal adds both; elsewhere a
/// timestamp and the level in words. The rest of the line is `format`'s (values quoted).
public struct JournalLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let underJournal: Bool
    private let format: LogLineFormat

    public init(label: String, level: Logger.Level, underJournal: Bool, format: LogLineFormat = .text) {
        self.label = label
        self.logLevel = level
        self.underJournal = underJournal
        self.format = format
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let level = event.level
        let message = event.message
        var explicit = event.metadata
        if let error = event.error { explicit = (explicit ?? [:]).merging(["error": "\(error)"]) { $1 } }
        let merged = metadata.merging(explicit ?? [:]) { $1 }
        let fields = merged.sorted { $0.key < $1.key }.map { ($0.key, "\($0.value)") }
        let line: String
        if underJournal {
            let text = format.line(timestamp: nil, level: level, label: label, message: "\(message)", fields: fields)
            line = "<\(Self.priority(level))>\(text)\n"
        } else {
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            var time = tm()
            var seconds = now.tv_sec
            gmtime_r(&seconds, &time)
            let stamp = String(
                format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", time.tm_year + 1900, time.tm_mon + 1, time.tm_mday,
                time.tm_hour, time.tm_min, time.tm_sec, Int(now.tv_nsec / 1_000_000))
            line =
                format.line(timestamp: stamp, level: level, label: label, message: "\(message)", fields: fields) + "\n"
        }
        let bytes = Array(line.utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }
}
