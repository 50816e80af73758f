import Logging
import Metrics
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Counts what a lane drops (`access_lane_dropped_total{lane=…}`) and says so in the log at most
/// once per interval, with how many since the last line: a flood is visible but cannot flood the
/// journal.
final class DropReporter: Sendable {
    let lane: String
    private let counter: Counter
    private let logger: Logger
    private let intervalNs: UInt64
    private let state = Mutex<(sinceLog: Int, lastLogNs: UInt64?)>((0, nil))

    init(lane: String, logger: Logger, interval: Duration = .seconds(10)) {
        self.lane = lane
        self.counter = Counter(label: "access_lane_dropped_total", dimensions: [("lane", lane)])
        self.logger = logger
        let parts = interval.components
        self.intervalNs = UInt64(parts.seconds) * 1_000_000_000 + UInt64(parts.attoseconds / 1_000_000_000)
    }

    func dropped(_ why: String) {
        counter.increment()
        let now = DispatchTimeNow.nanoseconds()
        let report = state.withLock { state -> Int? in
            state.sinceLog += 1
            if let last = state.lastLogNs, now - last < intervalNs { return nil }
            defer {
                state.sinceLog = 0
                state.lastLogNs = now
            }
            return state.sinceLog
        }
        if let report {
            logger.warning(
                "lane full: messages dropped", metadata: ["lane": "\(lane)", "why": "\(why)", "dropped": "\(report)"])
        }
    }
}

/// Monotonic nanoseconds (the lanes' rate limits must not follow wall-clock jumps).
enum DispatchTimeNow {
    static func nanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}
