import Foundation

/// Reads files under /proc. Their size reads as 0, and `String(contentsOfFile:)` then stops at
/// the first 4096 bytes: /proc/net/tcp with a few dozen sockets, or /proc/mounts on a busy
/// machine, would come back cut short without an error.
public enum ProcFile {
    public static func read(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        // `readToEnd` returns nil for an empty file: that is "", and only a read error is nil.
        let data: Data?
        do { data = try handle.readToEnd() } catch { return nil }
        return String(decoding: data ?? Data(), as: UTF8.self)
    }
}
