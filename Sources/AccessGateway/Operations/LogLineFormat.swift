import AccessProtocol
import Logging

/// How a log line is written (`--log-format`). Every value that a parser could split is quoted,
/// so `detail="the lock reports tampering"` stays one field for logfmt, Loki and journalctl -o.
public enum LogLineFormat: String, Sendable, CaseIterable {
    /// The message, then `key=value` fields (the default; readable in a terminal and the journal).
    case text
    /// Every part a logfmt pair: `ts=… level=… logger=… msg="…" key=value`.
    case logfmt
    /// One JSON object per line: `ts`, `level`, `logger`, `msg` and each field as a string.
    case json

    /// The line without its ending; `timestamp` is nil under journald, which stamps lines itself.
    public func line(
        timestamp: String?, level: Logger.Level, label: String, message: String, fields: [(String, String)]
    ) -> String {
        switch self {
        case .text:
            let pairs = fields.map { "\($0.0)=\(Self.logfmtValue($0.1))" }.joined(separator: " ")
            let text = pairs.isEmpty ? message : "\(message) \(pairs)"
            return [timestamp, timestamp == nil ? nil : "\(level)", "\(label): \(text)"].compactMap { $0 }
                .joined(separator: " ")
        case .logfmt:
            var pairs: [(String, String)] = []
            if let timestamp { pairs.append(("ts", timestamp)) }
            pairs += [("level", "\(level)"), ("logger", label), ("msg", message)]
            pairs += fields
            return pairs.map { "\($0.0)=\(Self.logfmtValue($0.1))" }.joined(separator: " ")
        case .json:
            var object: [(String, JSONValue?)] = [
                ("ts", timestamp.map(JSONValue.string)), ("level", .string("\(level)")), ("logger", .string(label)),
                ("msg", .string(message)),
            ]
            let reserved: Set<String> = ["ts", "level", "logger", "msg"]
            object += fields.map { (reserved.contains($0.0) ? "field_\($0.0)" : $0.0, .string($0.1)) }
            return CanonicalJSON.object(object)
        }
    }

    /// A logfmt value: bare when it is a plain token, else in double quotes with `"` and `\`
    /// escaped and control characters written as escapes (a value never breaks the line).
    static func logfmtValue(_ value: String) -> String {
        let needsQuotes =
            value.isEmpty
            || value.unicodeScalars.contains {
                $0 == " " || $0 == "=" || $0 == "\"" || $0 == "\\" || $0.value < 0x20 || $0.value == 0x7F
            }
        guard needsQuotes else { return value }
        var quoted = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\r": quoted += "\\r"
            case "\t": quoted += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    quoted +=
                        "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                        + String(scalar.value, radix: 16)
                } else {
                    quoted.unicodeScalars.append(scalar)
                }
            }
        }
        return quoted + "\""
    }
}
