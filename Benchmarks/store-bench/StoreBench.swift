import AccessCore
import AccessProtocol
import AccessStore
import AccessTesting
import ArgumentParser
import Foundation

/// Store and decision figures without MQTT: bulk import throughput, per-request lookup cost at
/// several store sizes (it should stay flat), and whole decisions through the engine with every
/// record committed to the audit log. Build in release: `swift run -c release store-bench`.
@main
struct StoreBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store-bench",
        abstract: "Measure bulk import, per-request lookups and decisions at several store sizes.",
        version: BuildInfo.versionText)

    @Option(help: "Comma-separated store sizes (reservations).")
    var sizes: String = "10000,1000000"

    @Option(help: "Lookups and decisions measured per size.")
    var samples: Int = 20000

    @Option(help: "SQLite synchronous level for the audit log: full or normal.")
    var synchronous: String = "full"

    @Option(help: "Concurrent decisions in flight for the throughput figure.")
    var concurrency: Int = 64

    @Option(help: "Write the figures as JSON to this file.")
    var json: String?

    @Option(help: "Runs of each micro-benchmark (the pure pieces of a decision and the audit append); 0 skips them.")
    var microRuns: Int = 20000

    func validate() throws {
        guard parsedSizes.count > 0, parsedSizes.allSatisfy({ $0 >= 100 }) else {
            throw ValidationError("--sizes must list store sizes of at least 100, e.g. 10000,1000000")
        }
        guard samples >= 100 else { throw ValidationError("--samples must be at least 100") }
        guard microRuns == 0 || microRuns >= 100 else {
            throw ValidationError("--micro-runs must be 0 or at least 100")
        }
        guard StoreConfiguration.Synchronous(rawValue: synchronous.uppercased()) != nil else {
            throw ValidationError("--synchronous must be full or normal")
        }
    }

    var parsedSizes: [Int] { sizes.split(separator: ",").compactMap { Int($0) } }

    func run() async throws {
        var micro: [[String: Any]] = []
        if microRuns > 0 {
            print(
                "micro-benchmark                                              p50 µs    p99 µs    per second (1 core)")
            for figure in try await MicroBench.run(runs: microRuns) {
                print(
                    figure.name.padding(toLength: 60, withPad: " ", startingAt: 0),
                    String(format: "%8.2f  %8.2f  %10.0f", figure.p50, figure.p99, figure.perSecond))
                micro.append(["name": figure.name, "p50Us": figure.p50, "p99Us": figure.p99])
            }
            print("")
        }
        var results: [[String: Double]] = []
        print(
            "size        import/s   tokenFacts p50/p99 µs   pinLookup p50/p99 µs   token decide p50/p99 µs   pin decide p50/p99 µs   decisions/s (\(concurrency) in flight)"
        )
        for size in parsedSizes {
            let figures = try await measure(size: size)
            results.append(figures)
            func f(_ key: String) -> String { String(format: "%.1f", figures[key] ?? 0) }
            print(
                String(size).padding(toLength: 10, withPad: " ", startingAt: 0),
                String(format: "%10.0f", figures["importPerS"] ?? 0),
                "  \(f("factsP50"))/\(f("factsP99"))".padding(toLength: 24, withPad: " ", startingAt: 0),
                "\(f("pinP50"))/\(f("pinP99"))".padding(toLength: 23, withPad: " ", startingAt: 0),
                "\(f("tokenDecideP50"))/\(f("tokenDecideP99"))".padding(toLength: 26, withPad: " ", startingAt: 0),
                "\(f("pinDecideP50"))/\(f("pinDecideP99"))".padding(toLength: 24, withPad: " ", startingAt: 0),
                String(format: "%.0f", figures["decisionsPerS"] ?? 0))
        }
        if let json {
            let document: [String: Any] = ["micro": micro, "sizes": results]
            let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: URL(fileURLWithPath: json))
        }
    }

    static let base: Int64 = 1_795_276_800_000

    func measure(size: Int) async throws -> [String: Double] {
        var policy = AccessPolicy()
        policy.maxRequestsPerS = 1e9
        policy.maxFailures = Int.max
        let site = TestSite(spaces: 50, policy: policy)
        let level = StoreConfiguration.Synchronous(rawValue: synchronous.uppercased()) ?? .full
        let store = try TemporaryStore(testSite: site, synchronous: level)
        defer { store.remove() }

        // Bulk import of `size` upserts spread over 50 spaces and a year.
        var ndjson: [UInt8] = []
        ndjson.reserveCapacity(size * 260)
        for index in 0..<size { ndjson.append(contentsOf: Array((line(index) + "\n").utf8)) }
        let importStart = ContinuousClock.now
        let summary = try BookingImport(batchSize: 5000).run(ndjson: ndjson, into: store.store, nowMs: Self.base)
        let importSeconds = (ContinuousClock.now - importStart).seconds
        guard summary.applied == size else { throw ValidationError("import applied \(summary.applied) of \(size)") }
        ndjson = []

        var random = SystemRandomNumberGenerator()
        let ids = (0..<samples).map { _ in Int.random(in: 0..<size, using: &random) }

        let facts = try timings(ids) { index in
            _ = try store.store.tokenFacts(jti: "t-\(index)", reservationID: "b-\(index)")
        }
        let pins = ids.map { site.pin(of: reservation($0)) }
        let pinLookups = try timings(Array(0..<samples)) { sample in
            _ = try store.store.pinCandidates(spaceID: reservation(ids[sample]).spaceID, pin: pins[sample])
        }

        // Whole decisions, one at a time (each waits for its audit commit).
        let tokens = ids.map { site.token(for: reservation($0), jti: "t-\($0)") }
        var tokenDecide: [Double] = []
        var pinDecide: [Double] = []
        for sample in 0..<min(samples, 5000) {
            let r = reservation(ids[sample])
            let lock = "lock-\(r.spaceID.dropFirst(5))"
            let now = r.startMs + 1000
            var start = ContinuousClock.now
            _ = await store.engine.handle(
                lockID: lock,
                payload: TestSite.requestPayload(requestID: "r-\(sample)", credential: .token(tokens[sample])),
                nowMs: now)
            tokenDecide.append((ContinuousClock.now - start).microseconds)
            start = ContinuousClock.now
            _ = await store.engine.handle(
                lockID: lock,
                payload: TestSite.requestPayload(requestID: "p-\(sample)", credential: .pin(pins[sample])),
                nowMs: now)
            pinDecide.append((ContinuousClock.now - start).microseconds)
        }

        // Throughput with many decisions in flight: the audit log commits them in groups.
        let throughputStart = ContinuousClock.now
        let total = samples
        let workers = concurrency
        let engine = store.engine
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var sample = worker
                    while sample < total {
                        let r = reservation(ids[sample])
                        _ = await engine.handle(
                            lockID: "lock-\(r.spaceID.dropFirst(5))",
                            payload: TestSite.requestPayload(requestID: "q-\(sample)", credential: .pin(pins[sample])),
                            nowMs: r.startMs + 1000)
                        sample += workers
                    }
                }
            }
        }
        let throughputSeconds = (ContinuousClock.now - throughputStart).seconds
        let audit = store.auditLog.statisticsSnapshot

        return [
            "size": Double(size), "importPerS": Double(size) / importSeconds,
            "factsP50": percentile(facts, 0.5), "factsP99": percentile(facts, 0.99),
            "pinP50": percentile(pinLookups, 0.5), "pinP99": percentile(pinLookups, 0.99),
            "tokenDecideP50": percentile(tokenDecide, 0.5), "tokenDecideP99": percentile(tokenDecide, 0.99),
            "pinDecideP50": percentile(pinDecide, 0.5), "pinDecideP99": percentile(pinDecide, 0.99),
            "decisionsPerS": Double(total) / throughputSeconds,
            "auditRecordsPerTransaction": Double(audit.records) / Double(max(1, audit.transactions)),
        ]
    }

    func line(_ index: Int) -> String {
        BookingMessage.upsert(reservation(index)).payload
    }

    func timings(_ inputs: [Int], _ body: (Int) throws -> Void) throws -> [Double] {
        var output: [Double] = []
        output.reserveCapacity(inputs.count)
        for input in inputs {
            let start = ContinuousClock.now
            try body(input)
            output.append((ContinuousClock.now - start).microseconds)
        }
        return output
    }
}

/// Reservation `index`: one hour, in one of 50 spaces, spread over a year from the base.
func reservation(_ index: Int) -> Reservation {
    let start = StoreBench.base + Int64(index % 8760) * 3_600_000 + Int64(index / 8760) * 60_000
    return Reservation(
        id: "b-\(index)", spaceID: "room-\(index % 50 + 1)", holder: "u-\(index % 5000)", startMs: start,
        endMs: start + 3_600_000, graceBeforeS: 600, graceAfterS: 300)
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    var microseconds: Double { seconds * 1e6 }
}
