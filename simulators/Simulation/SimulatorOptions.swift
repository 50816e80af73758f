import AccessCore
import AccessProtocol
import Crypto
import Foundation

/// Parsing shared by the simulator commands.
public enum SimulatorOptions {
    public static func broker(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port),
            colon > text.startIndex
        else { return nil }
        return (String(text[..<colon]), port)
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
