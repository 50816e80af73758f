import AccessCore
import AccessProtocol
import Foundation

/// `/metrics`: the registry's text with a `# HELP` line for every family (swift-prometheus takes
/// help text only where a metric is made, and swift-metrics has no place for it), then the build,
/// the process and each device, rendered at scrape time.
enum MetricsExposition {
    /// One line per family the gateway exports; a family missing here fails `MetricsTests`.
    static let help: [String: String] = [
        "access_requests_total": "Access requests decided, by reason (granted or why not).",
        "access_decisions_withheld_total":
            "Refusals decided and audited but not published (over the lock's answer budget or a congested connection).",
        "access_decision_seconds":
            "Time from taking a request off its lane to its decision and command being handed on.",
        "access_audit_commit_seconds": "Time to commit and sync a batch of audit records.",
        "access_request_lane_wait_seconds": "Time a request waited in its lock's lane.",
        "access_broker_connected": "1 while the device connection is up and lock requests are subscribed.",
        "access_booking_feed_connected": "1 while the booking feed's own connection is up.",
        "access_booking_feed_applied_seq": "The booking feed position applied to the store.",
        "access_booking_feed_lag_messages": "Booking messages the gateway knows it has not applied yet.",
        "access_booking_feed_lag_seconds": "How long the gateway has been behind the booking feed.",
        "access_booking_feed_last_message_age_seconds":
            "Seconds since the last booking message was applied (-1: none).",
        "access_booking_replay_requests_total": "Replay requests sent to the booking backend to close a gap.",
        "access_booking_messages_total": "Booking messages, by outcome.",
        "access_devices_online": "Devices whose last status said online, by kind.",
        "access_alarms_raised_total": "Alarms raised, by type.",
        "access_alarms_cleared_total": "Alarms ended, by who ended them (the device's report or an operator).",
        "access_alarms_open": "Alarms open now.",
        "access_messages_dropped_total": "Inbound or outbound messages dropped, by why.",
        "access_lane_dropped_total": "Messages a full lane could not take, by lane.",
        "access_commands_published_total": "Signed unlock commands handed to the broker.",
        "access_commands_dropped_stale_total": "Commands dropped because their notAfter passed before they could go.",
        "access_response_topics_ignored_total": "Requests whose Response Topic was outside the lock's branch.",
        "access_audit_head_seq": "Sequence number of the newest audit record.",
        "access_store_healthy": "1 when the store's last probe committed and synced, 0 when not (see /healthz).",
        "access_store_free_bytes": "Free bytes on the store's file system.",
        "access_store_wal_bytes": "Size of the store's write-ahead log.",
        "access_store_wal_restarts_total": "WAL restarts after a full checkpoint (the file keeps up to 16 MiB).",
    ]

    /// The registry's exposition with `# HELP` before each `# TYPE`, then `extra`.
    static func render(registry: [UInt8], extra: String) -> [UInt8] {
        var output = ""
        output.reserveCapacity(registry.count + extra.utf8.count + 4096)
        for line in String(decoding: registry, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# TYPE "), let name = line.split(separator: " ").dropFirst(2).first,
                let text = help[String(name)]
            {
                output += "# HELP \(name) \(text)\n"
            }
            output += line
            output += "\n"
        }
        while output.hasSuffix("\n\n") { output.removeLast() }
        output += extra
        return Array(output.utf8)
    }

    /// `access_build_info`, process figures from /proc/self, and per-device gauges.
    static func extra(locks: [DeviceMonitor.LockView], poles: [DeviceMonitor.PoleView], openAlarms: Int) -> String {
        var text = """
            # HELP access_build_info The gateway's version and the contract it implements (always 1).
            # TYPE access_build_info gauge
            access_build_info{version="\(BuildInfo.version)",contract="\(BuildInfo.contract)"} 1
            # HELP access_alarms_open Alarms open now.
            # TYPE access_alarms_open gauge
            access_alarms_open \(openAlarms)

            """
        text += ProcessFigures.current().exposition
        text +=
            "# HELP access_lock_online 1 when the lock's last status said online, 0 offline (absent: never heard).\n"
        text += "# TYPE access_lock_online gauge\n"
        for lock in locks {
            if let online = lock.online { text += "access_lock_online{lock=\"\(lock.id)\"} \(online ? 1 : 0)\n" }
        }
        text += "# HELP access_lock_battery_percent The lock's last reported battery level.\n"
        text += "# TYPE access_lock_battery_percent gauge\n"
        for lock in locks {
            if let battery = lock.battery { text += "access_lock_battery_percent{lock=\"\(lock.id)\"} \(battery)\n" }
        }
        text += "# HELP access_lock_last_seen_seconds Unix time of the lock's last status.\n"
        text += "# TYPE access_lock_last_seen_seconds gauge\n"
        for lock in locks {
            if let seen = lock.lastSeenMs {
                text += "access_lock_last_seen_seconds{lock=\"\(lock.id)\"} \(seen / 1000)\n"
            }
        }
        text += "# HELP access_pole_last_seen_seconds Unix time of the pole's last report.\n"
        text += "# TYPE access_pole_last_seen_seconds gauge\n"
        for pole in poles {
            if let seen = pole.lastSeenMs {
                text += "access_pole_last_seen_seconds{pole=\"\(pole.id)\"} \(seen / 1000)\n"
            }
        }
        return text
    }
}

/// The standard `process_*` metrics of Prometheus client libraries, from /proc/self.
struct ProcessFigures {
    var cpuSeconds: Double
    var residentBytes: Int64
    var virtualBytes: Int64
    var openFileDescriptors: Int
    var startTimeSeconds: Double
    var threads: Int

    static func current() -> ProcessFigures {
        let stat = readProc("/proc/self/stat")
        // Fields after the command name (which may hold spaces, so split after its ')').
        let fields = stat.split(separator: ")").last.map { $0.split(separator: " ").map(String.init) } ?? []
        func field(_ number: Int) -> Double { fields.count > number - 3 ? Double(fields[number - 3]) ?? 0 : 0 }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let page = Int64(sysconf(Int32(_SC_PAGESIZE)))
        let bootTime =
            readProc("/proc/stat").split(separator: "\n").first { $0.hasPrefix("btime ") }
            .flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        return ProcessFigures(
            cpuSeconds: ticks > 0 ? (field(14) + field(15)) / ticks : 0,
            residentBytes: Int64(field(24)) * page, virtualBytes: Int64(field(23)),
            openFileDescriptors: descriptors, startTimeSeconds: ticks > 0 ? bootTime + field(22) / ticks : 0,
            threads: Int(field(20)))
    }

    var exposition: String {
        """
        # HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
        # TYPE process_cpu_seconds_total counter
        process_cpu_seconds_total \(cpuSeconds)
        # HELP process_resident_memory_bytes Resident memory size in bytes.
        # TYPE process_resident_memory_bytes gauge
        process_resident_memory_bytes \(residentBytes)
        # HELP process_virtual_memory_bytes Virtual memory size in bytes.
        # TYPE process_virtual_memory_bytes gauge
        process_virtual_memory_bytes \(virtualBytes)
        # HELP process_open_fds Number of open file descriptors.
        # TYPE process_open_fds gauge
        process_open_fds \(openFileDescriptors)
        # HELP process_start_time_seconds Start time of the process since unix epoch in seconds.
        # TYPE process_start_time_seconds gauge
        process_start_time_seconds \(startTimeSeconds)
        # HELP process_threads Number of OS threads in the process.
        # TYPE process_threads gauge
        process_threads \(threads)

        """
    }

    /// Whole: `String(contentsOfFile:)` stops /proc files at 4096 bytes.
    private static func readProc(_ path: String) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        return String(decoding: (try? handle.readToEnd()) ?? Data(), as: UTF8.self)
    }
}
