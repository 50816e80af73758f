import AccessCore
import AccessProtocol
import Foundation

/// The status page: the site at a glance, rendered on the server as HTML (no script library, no
/// CDN, no build step). `/` is the whole page; `/events` streams the live part again whenever
/// something changed (server-sent events), and a dozen lines of inline script swap it in.
/// Everything shown is escaped; no holder id or credential is ever on it.
enum StatusPage {
    struct Snapshot: Sendable {
        var gatewayID: String
        var siteID: String
        var health: HTTPService.Health
        var auditSeq: Int64
        var auditHash: String
        var auditProblem: String?
        var feed: BookingService.FeedStatus
        var brokerConnected: Bool
        var locks: [DeviceMonitor.LockView]
        var lastDecisions: [String: LiveStateMessages.LastDecision]
        var poles: [DeviceMonitor.PoleView]
        var alarms: [ActiveAlarms.Entry]
        var recent: [LiveStateChanges.RecentDecision]
        var nowMs: Int64
    }

    static func page(_ snapshot: Snapshot) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(snapshot.siteID)) · access gateway \(escape(snapshot.gatewayID))</title>
        <style>\(style)</style></head>
        <body><header><h1>Site \(escape(snapshot.siteID))</h1>
        <p>gateway \(escape(snapshot.gatewayID)) · version \(escape(BuildInfo.version)) · contract v\(BuildInfo.contract)
        · <span id="stream">connecting…</span></p></header>
        <main id="live">\(live(snapshot))</main>
        <script>
        const live = document.getElementById('live'), stream = document.getElementById('stream');
        const events = new EventSource('events');
        events.addEventListener('state', e => { live.innerHTML = e.data; stream.textContent = 'live'; });
        events.onerror = () => { stream.textContent = 'reconnecting…'; };
        </script></body></html>

        """
    }

    /// The part that changes, on one line (an SSE `data:` field carries no newline).
    static func live(_ snapshot: Snapshot) -> String {
        var html = ""
        html += summary(snapshot)
        html += alarmsSection(snapshot)
        html += locksSection(snapshot)
        html += polesSection(snapshot)
        html += decisionsSection(snapshot)
        html += "<p class=\"muted\">as of \(time(snapshot.nowMs))</p>"
        return html
    }

    private static func summary(_ snapshot: Snapshot) -> String {
        let (healthClass, healthText): (String, String) =
            switch snapshot.health {
            case .ok: ("ok", "ok")
            case .degraded(let why): ("warn", "degraded: \(why)")
            case .failing(let why): ("bad", why)
            }
        let feed = snapshot.feed
        let feedText =
            feed.isBehind
            ? "\(feed.lagMessages) messages behind for \(feed.lagSeconds) s" : "up to date"
        let chain =
            snapshot.auditProblem.map { "<span class=\"bad\">\(escape($0))</span>" }
            ?? "<span class=\"ok\">intact</span>"
        return """
            <section id="summary"><h2>Health</h2><dl>\
            <dt>gateway</dt><dd id="health" class="\(healthClass)">\(escape(healthText))</dd>\
            <dt>broker</dt><dd class="\(snapshot.brokerConnected ? "ok" : "bad")">\(snapshot.brokerConnected ? "connected" : "not connected")</dd>\
            <dt>booking feed</dt><dd class="\(feed.isBehind ? "warn" : "ok")">applied seq \(feed.appliedSeq), \(escape(feedText))</dd>\
            <dt>audit head</dt><dd id="audit">seq \(snapshot.auditSeq), \(escape(String(snapshot.auditHash.prefix(16))))…, chain \(chain)</dd>\
            </dl></section>
            """
    }

    private static func alarmsSection(_ snapshot: Snapshot) -> String {
        var rows = ""
        for entry in snapshot.alarms.reversed() {
            let alarm = entry.alarm
            rows += """
                <tr><td>\(escape(entry.alarmID))</td><td class="bad">\(escape(alarm.kind.rawValue))</td>\
                <td>\(escape(alarm.lockID ?? alarm.poleID ?? alarm.spaceID ?? "-"))</td>\
                <td>\(time(alarm.timestampMs))</td><td>\(escape(alarm.detail))</td></tr>
                """
        }
        if rows.isEmpty { rows = "<tr><td colspan=\"5\" class=\"ok\">no open alarms</td></tr>" }
        return """
            <section id="alarms"><h2>Open alarms (\(snapshot.alarms.count))</h2><table>\
            <tr><th>alarm</th><th>type</th><th>device</th><th>raised</th><th>detail</th></tr>\(rows)</table></section>
            """
    }

    private static func locksSection(_ snapshot: Snapshot) -> String {
        var rows = ""
        for lock in snapshot.locks {
            let decision = snapshot.lastDecisions[lock.id].map {
                "<span class=\"\($0.granted ? "ok" : "warn")\">\(escape($0.reason))</span> \(time($0.timestampMs))"
            }
            rows += """
                <tr id="lock-\(escape(lock.id))"><td>\(escape(lock.id))</td><td>\(escape(lock.spaceID))</td>\
                <td>\(onlineCell(lock.online))</td><td>\(lock.doorOpen.map { $0 ? "open" : "closed" } ?? "?")</td>\
                <td>\(escape(lock.lockState ?? "?"))</td><td>\(lock.battery.map { "\($0) %" } ?? "?")</td>\
                <td>\(lock.lastSeenMs.map(time) ?? "never")</td><td>\(alarmsCell(lock.alarms))</td>\
                <td>\(decision ?? "-")</td></tr>
                """
        }
        return """
            <section id="locks"><h2>Locks (\(snapshot.locks.count))</h2><table>\
            <tr><th>lock</th><th>space</th><th>online</th><th>door</th><th>latch</th><th>battery</th><th>last seen</th>\
            <th>alarms</th><th>last decision</th></tr>\(rows)</table></section>
            """
    }

    private static func polesSection(_ snapshot: Snapshot) -> String {
        var rows = ""
        for pole in snapshot.poles {
            rows += """
                <tr id="pole-\(escape(pole.id))"><td>\(escape(pole.id))</td><td>\(onlineCell(pole.online))</td>\
                <td>\(pole.illuminance.map { String(format: "%.1f lx", $0) } ?? "?")</td>\
                <td>\(escape(pole.status ?? "?"))</td><td>\(pole.lastSeenMs.map(time) ?? "never")</td>\
                <td>\(alarmsCell(pole.alarms))</td></tr>
                """
        }
        return """
            <section id="poles"><h2>Light poles (\(snapshot.poles.count))</h2><table>\
            <tr><th>pole</th><th>online</th><th>illuminance</th><th>status</th><th>last seen</th><th>alarms</th></tr>\
            \(rows)</table></section>
            """
    }

    private static func decisionsSection(_ snapshot: Snapshot) -> String {
        var rows = ""
        for decision in snapshot.recent {
            rows += """
                <tr><td>\(time(decision.timestampMs))</td><td>\(escape(decision.lockID))</td>\
                <td class="\(decision.granted ? "ok" : "warn")">\(escape(decision.reason))</td>\
                <td>\(escape(decision.holderTag ?? "-"))</td></tr>
                """
        }
        if rows.isEmpty { rows = "<tr><td colspan=\"4\" class=\"muted\">none since the gateway started</td></tr>" }
        return """
            <section id="decisions"><h2>Last decisions</h2><table>\
            <tr><th>time</th><th>lock</th><th>reason</th><th>holder tag</th></tr>\(rows)</table></section>
            """
    }

    private static func onlineCell(_ online: Bool?) -> String {
        switch online {
        case true?: "<span class=\"ok\">online</span>"
        case false?: "<span class=\"bad\">offline</span>"
        case nil: "<span class=\"muted\">unknown</span>"
        }
    }

    private static func alarmsCell(_ alarms: [Alarm.Kind]) -> String {
        alarms.isEmpty ? "-" : "<span class=\"bad\">\(escape(alarms.map(\.rawValue).joined(separator: ", ")))</span>"
    }

    /// UTC, to the second.
    static func time(_ milliseconds: Int64) -> String {
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02d %02d:%02d:%02dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
            parts.tm_hour, parts.tm_min, parts.tm_sec)
    }

    /// Text made safe for HTML element content and attribute values.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            case "\n", "\r": escaped += " "
            default: escaped.append(character)
            }
        }
        return escaped
    }

    static let style = """
        body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1f23;background:#fafbfc}\
        h1{margin:0}h2{font-size:1.1em;margin:1.4em 0 .4em}header p{margin:.2em 0;color:#586069}\
        table{border-collapse:collapse;width:100%;background:#fff}th,td{border:1px solid #e1e4e8;padding:3px 8px;\
        text-align:left}th{background:#f1f3f5}dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px}\
        dt{font-weight:600}dd{margin:0}.ok{color:#1a7f37}.warn{color:#9a6700}.bad{color:#cf222e;font-weight:600}\
        .muted{color:#6a737d}
        """
}
