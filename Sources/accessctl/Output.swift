import AccessCore
import AccessProtocol
import AccessStore
import ArgumentParser
import Foundation

/// Tables for people, JSON (one object per line) for scripts.
enum Output {
    static func json(_ fields: [(String, JSONValue?)]) -> String { CanonicalJSON.object(fields) }

    static func table(_ header: [String], _ rows: [[String]]) {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        print(line(header))
        for row in rows { print(line(row)) }
    }

    static func time(_ milliseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    static func reservationJSON(_ r: Reservation) -> String {
        json([
            ("id", .string(r.id)), ("spaceId", .string(r.spaceID)), ("holder", .string(r.holder)),
            ("start", .string(time(r.startMs))), ("end", .string(time(r.endMs))),
            ("status", .string(r.status.rawValue)),
            ("version", .integer(r.version)), ("graceBeforeMin", .integer(r.graceBeforeS / 60)),
            ("graceAfterMin", .integer(r.graceAfterS / 60)), ("singleUse", .bool(r.singleUse)),
            ("spent", .bool(r.spent)),
        ])
    }

    static func auditJSON(_ item: CommittedAuditRecord) -> String {
        let r = item.record
        return json([
            ("seq", .integer(r.seq)), ("ts", .integer(r.timestampMs)), ("gatewayId", .string(r.gatewayID)),
            ("lockId", .string(r.lockID)), ("requestId", r.requestID.map(JSONValue.string)),
            ("credentialType", r.credentialType.map(JSONValue.string)),
            ("reservationId", r.reservationID.map(JSONValue.string)), ("holder", r.holder.map(JSONValue.string)),
            ("jti", r.jti.map(JSONValue.string)), ("granted", .bool(r.granted)), ("reason", .string(r.reason.rawValue)),
            ("commandId", r.commandID.map(JSONValue.string)), ("operator", r.operatorName.map(JSONValue.string)),
            ("note", r.note.map(JSONValue.string)), ("count", r.count.map(JSONValue.integer)),
            ("event", r.event.map(JSONValue.string)), ("hash", .string(item.hash)),
        ])
    }

    /// A CSV field, quoted when it must be (RFC 4180).
    static func csv(_ field: String) -> String {
        guard field.contains(where: { ",\"\n\r".contains($0) }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// A failure with a one-line message for the operator; exit status 1.
struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Parses RFC 3339 or `now`.
func parseInstant(_ text: String, option: String) throws -> Int64 {
    if text == "now" { return Int64(Date().timeIntervalSince1970 * 1000) }
    guard let value = RFC3339.unixMilliseconds(text) else {
        throw ValidationError(
            "\(option) \"\(text)\" is not RFC 3339 with an offset (e.g. 2026-11-21T18:00:00+02:00) or now")
    }
    return value
}
