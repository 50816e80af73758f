import AccessProtocol
import ArgumentParser
import Foundation
import Logging
import MQTT
import MQTTTesting
import Simulation

/// Decision latency and throughput through a real broker, side by side with the floors measured
/// in the same run: `c-echo` (a C echo on libmosquitto), `floor` (the same echo on the project's
/// Swift MQTT client) and `ideal` (a C gateway that journals, syncs once per batch and publishes
/// a decision and a command). Each gateway workload's figures are printed as a ratio to `ideal`,
/// the Swift echo's to `c-echo` (docs/performance.md).
/// Build in release: `swift build -c release && .build/release/gateway-bench`.
@main
struct GatewayBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway-bench",
        abstract: "Measure the gateway (request -> decision -> command at the lock) against the MQTT floor.",
        discussion: """
            Starts mosquitto (or uses --broker), a store of --reservations reservations and --locks locks, the \
            release access-gateway next to this binary, then measures, for the C echo, the Swift echo, the C \
            ideal gateway and for unique EdDSA tokens, repeated tokens and PINs: closed loop (1 in flight), \
            open loop at --rates, and saturation. Prints a table with each figure's ratio to its floor from \
            the same run (gateway workloads to ideal, the Swift echo to c-echo) and writes --json.
            """, version: BuildInfo.versionText)

    @Option(help: "Reservations in the store.") var reservations = 10_000
    @Option(help: "Locks in the inventory (two doors per space).") var locks = 1_000
    @Option(help: "Closed-loop requests per workload.") var closed = 2_000
    @Option(help: "Comma-separated open-loop rates (requests/s).") var rates = "1000,5000,10000"
    @Option(help: "Seconds per open-loop rate.") var openSeconds = 5.0
    @Option(help: "Seconds of saturation per workload.") var saturationSeconds = 5.0
    @Option(help: "Requests in flight at saturation.") var inFlight = 256
    @Option(help: "Ed25519 verifications timed on one core before the unique-token workload.")
    var verifications = 3_000
    @Option(
        help:
            "Tokens minted for unique-token (default: one per request at up to 50,000/s); past them the workload repeats them."
    )
    var uniqueTokens: Int?
    @Option(help: "Workloads: c-echo, floor, ideal, unique-token, repeated-token, pin.")
    var workloads = "c-echo,floor,ideal,unique-token,repeated-token,pin"
    @Option(help: "An existing broker, host or host:port (default: start mosquitto on loopback).") var broker: String?
    @Option(help: "The access-gateway executable (default: next to this binary).") var gateway: String?
    @Option(help: "Write the figures as JSON to this file.") var json: String?
    @Flag(
        help:
            "Decide against a PostgreSQL the bench starts (database.kind postgres), filled with the same reservations.")
    var postgres = false
    @Option(help: "Gateways in one shared-subscription group (more than 1 needs --postgres).") var gateways = 1
    @Flag(help: "Only build the store, start the gateway, and report its memory (for the RSS figure).")
    var memoryOnly = false

    var parsedRates: [Int] { rates.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
    var parsedWorkloads: [String] { workloads.split(separator: ",").map { String($0) } }

    func validate() throws {
        guard reservations >= 1, locks >= 2 else { throw ValidationError("--reservations ≥ 1 and --locks ≥ 2") }
        guard reservations >= (locks + 1) / 2 else {
            throw ValidationError("--reservations must be at least the number of spaces (--locks / 2)")
        }
        guard verifications >= 10 else { throw ValidationError("--verifications must be at least 10") }
        if let uniqueTokens, uniqueTokens < 1 { throw ValidationError("--unique-tokens must be at least 1") }
        guard closed >= 1, openSeconds > 0, saturationSeconds > 0, (1...10_000).contains(inFlight) else {
            throw ValidationError(
                "--closed, --open-seconds, --saturation-seconds must be positive; --in-flight 1...10000")
        }
        guard parsedRates.count == rates.split(separator: ",").count, parsedRates.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--rates must be positive integers, e.g. 1000,5000,10000")
        }
        let known: Set = ["c-echo", "floor", "ideal", "unique-token", "repeated-token", "pin"]
        for name in parsedWorkloads where !known.contains(name) {
            throw ValidationError("unknown workload \"\(name)\"; known: \(known.sorted().joined(separator: ", "))")
        }
        if let broker, SimulatorOptions.broker(broker) == nil {
            throw ValidationError("--broker must be host or host:port, got \"\(broker)\"")
        }
        guard (1...3).contains(gateways), gateways == 1 || postgres else {
            throw ValidationError("--gateways is 1 to 3; more than 1 needs --postgres (one shared database)")
        }
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        #if DEBUG
            print("warning: this is a debug build; figures are only meaningful from `swift build -c release`")
        #endif
        let gatewayExecutable = try gateway ?? Self.sibling("access-gateway")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-bench-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        var privateBroker: MosquittoBroker?
        let endpoint: (host: String, port: Int)
        if let broker, let given = SimulatorOptions.broker(broker) {
            endpoint = given
        } else {
            let started = try MosquittoBroker.start()
            privateBroker = started
            endpoint = ("127.0.0.1", started.port)
        }
        defer { privateBroker?.tearDown() }

        let spaces = (locks + 1) / 2
        let site = BenchSite(directory: directory, locks: locks, spaces: spaces, reservations: reservations)
        print("store: \(reservations) reservations, \(locks) locks, \(spaces) spaces (synchronous=FULL)")
        let importStarted = ContinuousClock.now
        try site.createStore { print($0) }
        print(String(format: "  built in %.1f s", (ContinuousClock.now - importStarted).seconds))
        let httpPort = try LoopbackPort.free()
        var database: PostgresServer?
        if postgres {
            let server = try await PostgresServer.launch()
            database = server
            print("PostgreSQL on port \(server.port): filling it with the store's reservations")
            try await SharedFill.fill(site: site, port: server.port)
        }
        defer { database?.tearDown() }
        try site.writeKeysAndConfiguration(
            broker: endpoint, httpPort: httpPort, postgresPort: database?.port,
            sharedGroup: gateways > 1 ? "bench" : nil)
        // Further gateways: their own configuration and local store (a copy), one database.
        var configurations = [site.configurationPath]
        for index in 2...max(2, gateways) where index <= gateways {
            let local = directory + "/gw-\(index)"
            try FileManager.default.createDirectory(atPath: local, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: site.databasePath, toPath: local + "/access.sqlite")
            let text = try String(contentsOfFile: site.configurationPath, encoding: .utf8)
                .replacingOccurrences(of: "gateway: {id: gw-bench}", with: "gateway: {id: gw-bench-\(index)}")
                .replacingOccurrences(of: "path: \(site.databasePath)", with: "path: \(local)/access.sqlite")
                .replacingOccurrences(of: "listen: \"127.0.0.1:\(httpPort)\"", with: "listen: \"127.0.0.1:0\"")
            try text.write(toFile: local + "/gateway.yaml", atomically: true, encoding: .utf8)
            configurations.append(local + "/gateway.yaml")
        }

        // The daemon's environment as systemd/access-gateway.service sets it.
        let environment = DaemonEnvironment.gateway()
        let gatewayProcess = try ChildProcess(
            executable: gatewayExecutable, arguments: ["--config", site.configurationPath], environment: environment,
            outputFile: URL(fileURLWithPath: directory + "/gateway.log"))
        defer { gatewayProcess.terminate(SIGTERM, grace: .seconds(10)) }
        var others: [ChildProcess] = []
        for (offset, path) in configurations.dropFirst().enumerated() {
            others.append(
                try ChildProcess(
                    executable: gatewayExecutable, arguments: ["--config", path], environment: environment,
                    outputFile: URL(fileURLWithPath: directory + "/gateway-\(offset + 2).log")))
        }
        defer { for other in others { other.terminate(SIGTERM, grace: .seconds(10)) } }
        // If the bench is killed (Ctrl-C, a timeout), the gateway follows within a second.
        let watchdog = try ChildProcess(
            executable: "/bin/sh",
            arguments: [
                "-c",
                "while kill -0 \(getpid()) 2>/dev/null && kill -0 \(gatewayProcess.processIdentifier) 2>/dev/null; "
                    + "do sleep 1; done; kill \(gatewayProcess.processIdentifier) 2>/dev/null",
            ])
        defer { watchdog.terminate(SIGKILL, grace: .seconds(1)) }
        try await Self.waitOnline(endpoint, site: site, gateway: gatewayProcess, log: directory + "/gateway.log")
        for (offset, other) in others.enumerated() {
            try await Self.waitOnline(
                endpoint, site: site, gateway: other, log: directory + "/gateway-\(offset + 2).log",
                gatewayID: "gw-bench-\(offset + 2)")
        }
        let gatewayPID = gatewayProcess.processIdentifier
        let allPIDs = [gatewayPID] + others.map(\.processIdentifier)
        print("gateway online (pid \(gatewayPID)): \(ProcessFigures.memory(gatewayPID).summary)")

        var report: [String: Any] = [
            "reservations": reservations, "locks": locks, "spaces": spaces, "qos": 1, "synchronous": "FULL",
            "cores": ProcessInfo.processInfo.activeProcessorCount,
            "database": postgres ? "postgres" : "sqlite", "gateways": gateways,
        ]
        var phases: [Phase] = []
        if !memoryOnly {
            let measured = try await measureAll(
                site: site, endpoint: endpoint, gatewayPIDs: allPIDs, directory: directory)
            phases = measured.phases
            Self.printTable(phases)
            if let ed25519 = measured.ed25519 {
                report["ed25519"] = Self.printEd25519(ed25519, phases: phases)
            }
        }
        let memory = ProcessFigures.memory(gatewayPID)
        print("gateway memory after the run: \(memory.summary)")
        report["gatewayPeakRSSMiB"] = memory.peakMiB
        report["gatewayRSSMiB"] = memory.currentMiB
        let measured = Set(phases.map(\.workload))
        report["phases"] = phases.map { phase in
            var object = phase.json
            object["reference"] = Self.reference(of: phase.workload, measured: measured)
            return object
        }

        await gatewayProcess.terminated(SIGTERM, grace: .seconds(10))
        if gatewayProcess.exitCode != 0 {
            print("warning: the gateway exited with \(gatewayProcess.terminationStatus ?? -1); see its log")
        }
        if let json {
            let data = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: URL(fileURLWithPath: json))
            print("figures written to \(json)")
        }
    }

    func measureAll(
        site: BenchSite, endpoint: (host: String, port: Int), gatewayPIDs: [pid_t], directory: String
    ) async throws -> (phases: [Phase], ed25519: Ed25519Floor?) {
        var phases: [Phase] = []
        var ed25519: Ed25519Floor?
        let openTotal = parsedRates.reduce(0) { $0 + Int(Double($1) * openSeconds) }
        // Enough sequence numbers for every phase of a workload (saturation at up to 50k/s).
        let saturationCapacity = Int(saturationSeconds * 50_000)
        for name in parsedWorkloads {
            let workload: Workload
            var echo: FloorEcho?
            var cFloor: CFloor?
            // Whose CPU a phase counts: the gateways', or the C floor's own process.
            var measuredPIDs = gatewayPIDs
            // The gateway's WAL is watched while the gateway decides (not for the floors).
            var walPath: String? = site.databasePath + "-wal"
            switch name {
            case "c-echo", "ideal":
                let started = try await CFloor.start(
                    name == "ideal" ? .idealGateway : .echo, endpoint: endpoint, directory: directory)
                cFloor = started
                workload = started.workload(locks: locks)
                measuredPIDs = [started.process.processIdentifier]
                walPath = nil
            case "floor":
                let started = try await FloorEcho.start(endpoint)
                echo = started
                workload = started.workload
                walPath = nil
            case "unique-token":
                let count = uniqueTokens ?? (closed + openTotal + saturationCapacity)
                print("minting \(count) tokens")
                let tokens = try await site.uniqueTokens(count: count)
                ed25519 = Ed25519Floor.measure(
                    tokens: tokens, issuerKey: site.backend.privateKey.publicKey, count: verifications)
                workload = site.uniqueTokenWorkload(tokens)
            case "repeated-token":
                workload = try site.repeatedTokenWorkload()
            default:
                workload = site.pinWorkload()
            }
            let generator = try LoadGenerator(host: endpoint.host, port: endpoint.port, name: name)
            try await generator.connect(responseFilter: workload.responseFilter)
            var next = 0
            // A short warm-up: connections, caches and the first WAL pages.
            _ = try await generator.closedLoop(workload, count: min(200, closed), first: next)
            next += min(200, closed)

            var phase = try await measured(measuredPIDs, generator, walPath: walPath) {
                try await generator.closedLoop(workload, count: closed, first: next)
            }
            next += closed
            phases.append(phase)
            Self.printProgress(phase)
            for rate in parsedRates {
                phase = try await measured(measuredPIDs, generator, walPath: walPath) {
                    try await generator.openLoop(workload, rate: rate, seconds: openSeconds, first: next)
                }
                next += phase.sent
                phases.append(phase)
                Self.printProgress(phase)
            }
            phase = try await measured(measuredPIDs, generator, walPath: walPath) {
                try await generator.saturation(
                    workload, seconds: saturationSeconds, inFlight: inFlight, first: next, capacity: saturationCapacity)
            }
            phases.append(phase)
            Self.printProgress(phase)
            await generator.shutdown()
            await echo?.stop()
            await cFloor?.stop()
        }
        return (phases, ed25519)
    }

    /// Runs a phase and adds the CPU time of `pids` (every gateway, or a C floor) per completed
    /// request; none for the Swift echo, which runs inside this process.
    func measured(
        _ pids: [pid_t], _ generator: LoadGenerator, walPath: String? = nil, _ body: () async throws -> Phase
    ) async throws -> Phase {
        await generator.settle()
        let before = pids.map(ProcessFigures.cpuSeconds).reduce(0, +)
        // The first gateway's RSS and its store's WAL, sampled every second while the phase runs.
        let sampler = pids.first.map { ResourceSampler(pid: $0, walPath: walPath) }
        let sampling = Task { await sampler?.run() }
        var phase = try await body()
        sampling.cancel()
        _ = await sampling.value
        let used = pids.map(ProcessFigures.cpuSeconds).reduce(0, +) - before
        if phase.workload != "floor", phase.completed > 0 {
            phase.gatewayCPUUsPerRequest = used * 1e6 / Double(phase.completed)
        }
        if let peaks = sampler?.peaks, walPath != nil {
            phase.peakRSSMiB = peaks.rssMiB
            phase.peakWALMiB = peaks.walMiB
        }
        return phase
    }

    static func printProgress(_ phase: Phase) {
        let p = phase.latencyUs
        print(
            "  \(phase.workload) \(phase.label): \(phase.completed)/\(phase.sent) in \(String(format: "%.1f", phase.seconds)) s, "
                + "p50 \(Int(p["p50"] ?? 0)) µs, p99 \(Int(p["p99"] ?? 0)) µs, \(Int(phase.throughput))/s"
                + (phase.peakRSSMiB.map { String(format: ", peak RSS %.1f MiB", $0) } ?? "")
                + (phase.peakWALMiB.map { String(format: ", peak WAL %.1f MiB", $0) } ?? ""))
    }

    /// The floor each workload is compared with: the Swift echo with the C echo, the gateway's
    /// workloads with the C ideal gateway (or, when it was not measured, the Swift echo).
    static func reference(of workload: String, measured: Set<String>) -> String? {
        switch workload {
        case "c-echo", "ideal": nil
        case "floor": measured.contains("c-echo") ? "c-echo" : nil
        default: measured.contains("ideal") ? "ideal" : measured.contains("floor") ? "floor" : nil
        }
    }

    static func printTable(_ phases: [Phase]) {
        print("")
        print(
            "latency µs (request published -> command received by the lock; echoes: request -> reply), QoS 1; "
                + "CPU of the gateways, or of the C program")
        let header = [
            "workload", "phase", "p50", "p90", "p99", "p99.9", "max", "done/s", "lost", "CPU µs/req",
            "× reference p50/p90/p99/p99.9/max, done/s",
        ]
        let widths = [15, 21, 7, 7, 7, 7, 8, 8, 6, 11, 0]
        func row(_ cells: [String]) -> String {
            zip(cells, widths).map { cell, width in
                width == 0 ? cell : cell.padding(toLength: max(width, cell.count + 1), withPad: " ", startingAt: 0)
            }.joined()
        }
        print(row(header))
        let measured = Set(phases.map(\.workload))
        var byKey: [String: Phase] = [:]
        for phase in phases where byKey["\(phase.workload)|\(phase.label)"] == nil {
            byKey["\(phase.workload)|\(phase.label)"] = phase
        }
        for phase in phases {
            let p = phase.latencyUs
            var ratio = ""
            if let reference = reference(of: phase.workload, measured: measured),
                let base = byKey["\(reference)|\(phase.label)"]
            {
                let parts = Phase.percentileNames.map { name, _ -> String in
                    guard let value = p[name], let floor = base.latencyUs[name], floor > 0 else { return "-" }
                    return String(format: "%.1f", value / floor)
                }
                ratio =
                    parts.joined(separator: "/") + String(format: ", %.2f", phase.throughput / max(1, base.throughput))
                    + " (\(reference))"
            }
            print(
                row([
                    phase.workload, phase.label, "\(Int(p["p50"] ?? 0))", "\(Int(p["p90"] ?? 0))",
                    "\(Int(p["p99"] ?? 0))",
                    "\(Int(p["p99.9"] ?? 0))", "\(Int(p["max"] ?? 0))", "\(Int(phase.throughput))", "\(phase.lost)",
                    phase.gatewayCPUUsPerRequest.map { String(format: "%.0f", $0) } ?? "-", ratio,
                ]))
        }
    }

    /// A unique token's CPU at saturation against a repeated token's plus one verification: the
    /// ratio is 1.0 when verification is all a unique token adds.
    static func printEd25519(_ floor: Ed25519Floor, phases: [Phase]) -> [String: Any] {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        var object: [String: Any] = [
            "usPerVerification": floor.usPerVerification, "perCorePerSecond": floor.perCorePerSecond,
            "verifications": floor.verifications,
        ]
        print("")
        print(
            String(
                format: "Ed25519 verification on one core: %.1f µs (%.0f/s per core, %.0f/s on %d cores; %d measured)",
                floor.usPerVerification, floor.perCorePerSecond, floor.perCorePerSecond * Double(cores), cores,
                floor.verifications))
        func saturationCPU(_ workload: String) -> Double? {
            phases.first { $0.workload == workload && $0.mode == "saturation" }?.gatewayCPUUsPerRequest
        }
        guard let unique = saturationCPU("unique-token") else { return object }
        guard let repeated = saturationCPU("repeated-token") else {
            print(String(format: "unique token at saturation: %.0f µs of CPU per decision", unique))
            return object
        }
        let added = unique - repeated
        object["uniqueMinusRepeatedCPUUs"] = added
        object["uniqueMinusRepeatedPerVerification"] = added / max(floor.usPerVerification, 1e-9)
        print(
            String(
                format:
                    "unique token at saturation: %.0f µs of CPU per decision = repeated token's %.0f + %.0f µs, "
                    + "%.2f× one verification",
                unique, repeated, added, added / max(floor.usPerVerification, 1e-9)))
        return object
    }

    static func waitOnline(
        _ endpoint: (host: String, port: Int), site: BenchSite, gateway: ChildProcess, log: String,
        gatewayID: String = "gw-bench"
    ) async throws {
        let observer = try MQTTClient(
            configuration: .init(host: endpoint.host, port: endpoint.port, clientID: "bench-observer"))
        try await observer.connect()
        let seen = StreamRecorder(observer.messages)
        try await observer.subscribe(site.topics.gatewayStatus(gatewayID: gatewayID))
        let online = await seen.first(timeout: .seconds(120)) {
            $0.payloadString?.contains("\"online\":true") == true
        }
        await observer.shutdown()
        guard online != nil, gateway.isRunning else {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw BenchError("the gateway did not come online:\n\(text.suffix(2000))")
        }
    }

    static func sibling(_ name: String) throws -> String {
        guard let path = ExecutablePaths.sibling(name) else {
            throw BenchError(
                "\(name) not found beside this binary: build it (swift build -c release) or pass --gateway")
        }
        return path
    }
}
