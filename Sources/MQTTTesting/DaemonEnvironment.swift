import Foundation

/// The gateway daemon's environment as `systemd/access-gateway.service` sets it, for benchmarks
/// that start the daemon themselves: glibc's allocator settings, which change its memory by a
/// fifth at 100k locks (docs/performance.md). A value already in `base` is kept.
public enum DaemonEnvironment {
    public static let allocatorSettings = [
        "MALLOC_ARENA_MAX": "2",
        "MALLOC_MMAP_THRESHOLD_": "262144",
        "MALLOC_TRIM_THRESHOLD_": "2097152",
    ]

    public static func gateway(_ base: [String: String] = ProcessInfo.processInfo.environment) -> [String: String] {
        base.merging(allocatorSettings) { given, _ in given }
    }
}
