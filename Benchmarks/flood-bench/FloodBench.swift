import AccessCore
import AccessProtocol
import ArgumentParser
import Foundation
import Logging
import MQTT
import MQTTTesting
import Simulation

/// One lock floods the gateway while the booking backend cancels and revokes and another lock
/// keeps asking: does every booking message still apply, does the other lock still get its
/// decisions, does memory stay flat, does `/healthz` keep answering? (Issue 13's acceptance.)
/// Build in release: `swift build -c release && .build/release/flood-bench`.
@main
struct FloodBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flood-bench",
        abstract: "Flood one lock's topics and check that bookings, other locks, memory and health hold.",
        discussion: """
            Starts mosquitto and the release access-gateway next to this binary (per-lock budget 10/s, as \
            shipped). For each phase, one lock publishes --rate messages/s for --seconds (requests at QoS 0, \
            requests at QoS 1, events), while the backend publishes --cancels cancels and --revokes revokes \
            spread over the phase and a second lock asks --good-rate times a second. Afterwards every \
            cancelled or revoked holder presents their token and must be denied. Prints each phase's \
            figures, PASS or FAIL against the targets, and writes --json.
            """, version: BuildInfo.versionText)

    @Option(help: "Seconds of flood per phase.") var seconds = 30.0
    @Option(help: "Flood messages per second.") var rate = 40_000
    @Option(help: "Phases: requests-qos0, requests-qos1, events, steady, overload.")
    var phases = "requests-qos0,requests-qos1,events"
    @Option(help: "Granted requests per second in the steady phase, spread over the load doors.")
    var steadyRate = 1000
    @Option(help: "Requests per second in the overload phase (wrong PINs, each decided and audited).")
    var overloadRate = 20_000
    @Option(help: "Cancels published during each phase.") var cancels = 100
    @Option(help: "Revokes published during each phase.") var revokes = 100
    @Option(help: "Requests per second from the well-behaved lock.") var goodRate = 5.0
    @Option(help: "Bursts of pipelined requests from one lock whose order is checked (0: none).")
    var orderBursts = 1000
    @Option(help: "Requests in each such burst.") var orderBurstSize = 10
    @Option(help: "Broker restarts after the phases, each timed until the gateway serves again (0: none).")
    var restarts = 0
    @Option(help: "Seconds the broker stays down at each restart.") var outageSeconds = 3.0
    @Option(help: "The access-gateway executable (default: next to this binary).") var gateway: String?
    @Option(help: "Write the figures as JSON to this file.") var json: String?

    static let checkLocks = 20
    static let knownPhases = ["requests-qos0", "requests-qos1", "events", "steady", "overload"]

    var parsedPhases: [String] { phases.split(separator: ",").map(String.init) }

    func validate() throws {
        guard orderBursts >= 0, (1...64).contains(orderBurstSize) else {
            throw ValidationError("--order-bursts ≥ 0 and --order-burst-size 1...64 (a lock's lane)")
        }
        guard seconds > 0, rate > 0, goodRate > 0, cancels >= 0, revokes >= 0 else {
            throw ValidationError("--seconds, --rate and --good-rate must be positive; --cancels, --revokes ≥ 0")
        }
        for phase in parsedPhases where !Self.knownPhases.contains(phase) {
            throw ValidationError("unknown phase \"\(phase)\"; known: \(Self.knownPhases.joined(separator: ", "))")
        }
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .error
            return handler
        }
        #if DEBUG
            print("warning: this is a debug build; figures are only meaningful from `swift build -c release`")
        #endif
        guard let executable = gateway ?? ExecutablePaths.sibling("access-gateway") else {
            throw ValidationError("access-gateway not found beside this binary: build it or pass --gateway")
        }
        let site = try await FloodSite.start(gatewayExecutable: executable, holdersPerPhase: cancels + revokes)
        defer { site.tearDown() }
        print("gateway online (pid \(site.gatewayPID)): \(ProcessFigures.memory(site.gatewayPID).summary)")

        var results: [FloodPhase.Result] = []
        for (index, name) in parsedPhases.enumerated() {
            let phaseRate = name == "steady" ? steadyRate : name == "overload" ? overloadRate : rate
            let phase = FloodPhase(
                name: name, index: index, seconds: seconds, rate: phaseRate, cancels: cancels, revokes: revokes,
                goodRate: goodRate, site: site)
            let result = try await phase.run()
            print(result.summary)
            results.append(result)
        }
        var restartResult: RestartCheck.Result?
        if restarts > 0 {
            let checked = try await RestartCheck(restarts: restarts, outageSeconds: outageSeconds, site: site).run()
            print(checked.summary)
            restartResult = checked
        }
        var order: OrderCheck.Result?
        if orderBursts > 0 {
            // A gateway of its own, whose budget lets one door pipeline its bursts.
            let orderSite = try await FloodSite.start(
                gatewayExecutable: executable, holdersPerPhase: 0, maxRequestsPerS: 1_000_000)
            defer { orderSite.tearDown() }
            let checked = try await OrderCheck(bursts: orderBursts, perBurst: orderBurstSize, site: orderSite).run()
            print(checked.summary)
            order = checked
        }
        let passed = results.allSatisfy(\.passed) && (order?.passed ?? true) && (restartResult?.passed ?? true)
        if !passed {
            let log = (try? String(contentsOfFile: site.directory + "/gateway.log", encoding: .utf8)) ?? ""
            print("the gateway's log, last lines:\n" + log.split(separator: "\n").suffix(30).joined(separator: "\n"))
            let metrics = try? await ExternalTool.captureDetached(
                "curl", ["-s", "--max-time", "2", "http://127.0.0.1:\(site.probe.port)/metrics"])
            let lines = (metrics?.standardOutput ?? "").split(separator: "\n").filter {
                $0.hasPrefix("access_") && !$0.hasSuffix(" 0") && !$0.contains("_bucket")
            }
            print("its metrics:\n" + lines.joined(separator: "\n"))
        }
        print(passed ? "PASS: every phase met the targets" : "FAIL: see the phases above")
        if let json {
            let report: [String: Any] = [
                "seconds": seconds, "rate": rate, "cancels": cancels, "revokes": revokes, "goodRate": goodRate,
                "cores": ProcessInfo.processInfo.activeProcessorCount, "phases": results.map(\.json),
                "order": order?.json ?? [:], "restarts": restartResult?.json ?? [:], "passed": passed,
            ]
            let data = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: URL(fileURLWithPath: json))
            print("figures written to \(json)")
        }
        if !passed { throw ExitCode(1) }
    }
}

struct FloodError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
