#if canImport(Glibc)
    import Glibc
#endif

/// Writes a line to stderr (diagnostics, progress), keeping stdout for results.
func printError(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes[offset...].withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        guard written > 0 else { return }
        offset += written
    }
}
