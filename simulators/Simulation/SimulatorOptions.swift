import AccessCore
import AccessProtocol
import Crypto
import Foundation

/// Parsing shared by the simulator commands.
public enum SimulatorOptions {
    /// `host`, `host:port` or `[v6-address]:port`; a bare host gets `defaultPort`.
    public static func broker(_ text: String, defaultPort: Int = 1883) -> (host: String, port: Int)? {
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard !host.isEmpty else { return nil }
            if rest.isEmpty { return (host, defaultPort) }
            guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()), (1...65535).contains(port) else { return nil }
            return (host, port)
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard let host = parts.first, !host.isEmpty, !host.contains(where: \.isWhitespace) else { return nil }
        switch parts.count {
        case 1: return (String(host), defaultPort)
        case 2:
            guard let port = Int(parts[1]), (1...65535).contains(port) else { return nil }
            return (String(host), port)
        default: return nil
        }
    }

    /// `id@space,id@space` (or plain ids when `needsSpace` is false).
    public static func devices(_ text: String, needsSpace: Bool) -> [(id: String, space: String)]? {
        var result: [(id: String, space: String)] = []
        for entry in text.split(separator: ",") {
            let parts = entry.split(separator: "@").map(String.init)
            guard let id = parts.first, Identifier.isValid(id) else { return nil }
            if needsSpace {
                guard parts.count == 2, Identifier.isValid(parts[1]) else { return nil }
                result.append((id, parts[1]))
            } else {
                result.append((id, parts.count > 1 ? parts[1] : ""))
            }
        }
        return result.isEmpty ? nil : result
    }

    /// A 32-byte key from a file of 64 hex digits (the gateway's format).
    public static func key(file: String) throws -> SymmetricKey {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ScenarioError("\(file): cannot read")
        }
        let hex = Array(text.trimmingCharacters(in: .whitespacesAndNewlines).utf8)
        guard hex.count == 64 else { throw ScenarioError("\(file): expected 64 hex digits") }
        var bytes: [UInt8] = []
        var index = 0
        while index < 64 {
            guard let byte = UInt8(String(decoding: hex[index..<index + 2], as: UTF8.self), radix: 16) else {
                throw ScenarioError("\(file): expected 64 hex digits")
            }
            bytes.append(byte)
            index += 2
        }
        return SymmetricKey(data: bytes)
    }
}
