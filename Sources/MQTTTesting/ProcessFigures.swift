import Foundation

/// A process's memory and CPU time from /proc (benches and tests watching a child process).
public enum ProcessFigures {
    public struct Memory: Sendable {
        public var peakMiB: Double
        public var currentMiB: Double
        public var summary: String { String(format: "peak RSS %.1f MiB, RSS %.1f MiB", peakMiB, currentMiB) }
    }

    public static func memory(_ pid: pid_t) -> Memory {
        let status = ProcFile.read("/proc/\(pid)/status") ?? ""
        func kib(_ field: String) -> Double {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }) else { return 0 }
            return Double(line.split(separator: " ").dropFirst().first { Double($0) != nil } ?? "0") ?? 0
        }
        return Memory(peakMiB: kib("VmHWM") / 1024, currentMiB: kib("VmRSS") / 1024)
    }

    /// User + system CPU seconds so far (fields 14 and 15 of /proc/<pid>/stat, in clock ticks).
    public static func cpuSeconds(_ pid: pid_t) -> Double {
        guard let stat = ProcFile.read("/proc/\(pid)/stat"),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

/// Where the package's executables are.
public enum ExecutablePaths {
    /// `name` next to the running executable (a bench finds the release gateway beside itself).
    public static func sibling(_ name: String) -> String? {
        let me =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let path = URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent(name).path
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }
}
