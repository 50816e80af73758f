import Crypto

#if canImport(Glibc)
    import Glibc
#endif

/// A 32-byte secret (`siteKey`, `pinKey`) in a file: 64 hex digits (a trailing newline is
/// allowed) or the 32 raw bytes. Files that the group or others can read are refused, so a
/// secret is never readable by more than its owner.
public enum SecretKeyFile {
    public enum LoadError: Error, Hashable, CustomStringConvertible {
        case unreadable(path: String, reason: String)
        case tooOpen(path: String, mode: String)
        case badContents(path: String)

        public var description: String {
            switch self {
            case .unreadable(let path, let reason): "\(path): cannot read (\(reason))"
            case .tooOpen(let path, let mode):
                "\(path): mode \(mode) lets others read the secret; chmod 600 it"
            case .badContents(let path): "\(path): expected 64 hex digits or 32 raw bytes"
            }
        }
    }

    public static func load(path: String) throws(LoadError) -> SymmetricKey {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        guard status.st_mode & 0o077 == 0 else {
            throw .tooOpen(path: path, mode: String(status.st_mode & 0o777, radix: 8))
        }
        guard let file = fopen(path, "rb") else {
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { fclose(file) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = fread(&buffer, 1, buffer.count, file)
        let bytes = Array(buffer.prefix(count))
        if bytes.count == 32 { return SymmetricKey(data: bytes) }
        var text = bytes
        while let last = text.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { text.removeLast() }
        guard text.count == 64, let decoded = decodeHex(text) else { throw .badContents(path: path) }
        return SymmetricKey(data: decoded)
    }

    static func decodeHex(_ text: [UInt8]) -> [UInt8]? {
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var output: [UInt8] = []
        var index = 0
        while index + 1 < text.count {
            guard let high = nibble(text[index]), let low = nibble(text[index + 1]) else { return nil }
            output.append(high << 4 | low)
            index += 2
        }
        return output
    }
}
