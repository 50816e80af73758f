import Foundation
import MQTTTesting
import Synchronization

/// Samples a gateway's RSS and its store's WAL once a second while a phase runs, keeping the
/// peaks; on a long phase (a 10-minute run) it prints them every minute so the run shows progress.
final class ResourceSampler: Sendable {
    struct Peaks: Sendable {
        var rssMiB = 0.0
        var walMiB = 0.0
    }

    let pid: pid_t
    let walPath: String?
    private let state = Mutex(Peaks())

    init(pid: pid_t, walPath: String?) {
        self.pid = pid
        self.walPath = walPath
    }

    var peaks: Peaks { state.withLock { $0 } }

    func run() async {
        let started = ContinuousClock.now
        var lastPrinted = started
        while !Task.isCancelled {
            let rss = ProcessFigures.memory(pid).currentMiB
            let wal = walPath.map(Self.sizeMiB) ?? 0
            let peaks = state.withLock { peaks in
                peaks.rssMiB = max(peaks.rssMiB, rss)
                peaks.walMiB = max(peaks.walMiB, wal)
                return peaks
            }
            if ContinuousClock.now - lastPrinted >= .seconds(60) {
                lastPrinted = .now
                print(
                    String(
                        format: "    %.0f s: RSS %.1f MiB (peak %.1f), WAL %.1f MiB (peak %.1f)",
                        (ContinuousClock.now - started).seconds, rss, peaks.rssMiB, wal, peaks.walMiB))
                fflush(nil)  // every stream: `stdout` itself is not concurrency-safe to name
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// The file's size in MiB; 0 when it does not exist (a checkpoint truncated it away).
    static func sizeMiB(_ path: String) -> Double {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.doubleValue ?? 0
        return size / 1_048_576
    }
}
