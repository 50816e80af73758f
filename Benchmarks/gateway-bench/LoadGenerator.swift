import Dispatch
import MQTT
import Synchronization

/// What one measured target answers: the request for sequence number `n`, and the topic filter
/// on which its answer (the lock's command, or the echo's reply) arrives.
struct Workload: Sendable {
    var name: String
    var responseFilter: String
    var request: @Sendable (_ sequence: Int) -> MQTTMessage
}

/// Drives a workload through two connections of its own (one sends, one receives, as a lock's
/// firmware would, so neither direction waits on the other) and measures request -> response.
final class LoadGenerator: Sendable {
    let sender: MQTTClient
    let receiver: MQTTClient
    /// The phase being measured; the one receiving task feeds it (a stream is iterated once).
    let current = Mutex<Ledger?>(nil)
    let receiving = Mutex<Task<Void, Never>?>(nil)
    /// When the last response (of any phase) arrived, to wait for a backlog to clear.
    let lastResponseNs = Mutex<UInt64>(0)

    init(host: String, port: Int, name: String) throws {
        func configuration(_ role: String) -> MQTTClient.Configuration {
            MQTTClient.Configuration(
                host: host, port: port, clientID: "bench-\(name)-\(role)", connectTimeout: .seconds(5),
                outboundQueueCapacity: 100_000, inboundBufferCapacity: 1_000_000)
        }
        sender = try MQTTClient(configuration: configuration("send"))
        receiver = try MQTTClient(configuration: configuration("receive"))
    }

    func connect(responseFilter: String) async throws {
        try await sender.connect()
        try await receiver.connect()
        try await receiver.subscribe(responseFilter, qos: .atLeastOnce)
        let messages = receiver.messages
        let task = Task { [self] in
            for await message in messages {
                lastResponseNs.withLock { $0 = Ledger.now() }
                guard let sequence = Self.sequence(in: message.payload) else { continue }
                current.withLock { $0 }?.complete(sequence)
            }
        }
        receiving.withLock { $0 = task }
    }

    func shutdown() async {
        receiving.withLock { $0 }?.cancel()
        await sender.shutdown()
        await receiver.shutdown()
    }

    /// Makes `ledger` the one responses are recorded in.
    func measure(into ledger: Ledger) {
        current.withLock { $0 = ledger }
    }

    /// The number in `"requestId":"q<number>"`, found without parsing the JSON.
    static func sequence(in payload: [UInt8]) -> Int? {
        let marker = Array(#""requestId":"q"#.utf8)
        guard payload.count > marker.count else { return nil }
        var index = 0
        while index + marker.count < payload.count {
            if payload[index] == marker[0], Array(payload[index..<index + marker.count]) == marker {
                var value = 0
                var cursor = index + marker.count
                var digits = 0
                while cursor < payload.count, payload[cursor] >= 48, payload[cursor] <= 57, digits < 12 {
                    value = value * 10 + Int(payload[cursor] - 48)
                    cursor += 1
                    digits += 1
                }
                return digits > 0 ? value : nil
            }
            index += 1
        }
        return nil
    }

    /// One request in flight at a time: pure latency.
    func closedLoop(_ workload: Workload, count: Int, first: Int) async throws -> Phase {
        let ledger = Ledger(capacity: first + count)
        measure(into: ledger)
        let started = Ledger.now()
        for sequence in first..<(first + count) {
            let message = workload.request(sequence)
            ledger.markSent(sequence, atNs: Ledger.now())
            try sender.publish(message)
            await ledger.wait(for: sequence, timeout: .seconds(2))
        }
        return Phase(
            mode: "closed", workload: workload.name, targetRate: nil, ledger: ledger,
            seconds: Double(Ledger.now() - started) / 1e9)
    }

    /// Requests at a fixed rate whatever the responses do; latency counts from when each request
    /// was due, so a stalled sender or gateway cannot hide its queueing (no coordinated omission).
    func openLoop(_ workload: Workload, rate: Int, seconds: Double, first: Int) async throws -> Phase {
        let total = max(1, Int(Double(rate) * seconds))
        let ledger = Ledger(capacity: first + total)
        measure(into: ledger)
        let messages = (first..<(first + total)).map(workload.request)
        let interval = 1e9 / Double(rate)
        let started = Ledger.now()
        var next = 0
        while next < total {
            let now = Ledger.now()
            // Send everything due by now (a burst if the sender was late), then sleep briefly.
            while next < total {
                let due = started + UInt64(Double(next) * interval)
                guard due <= now else { break }
                ledger.markSent(first + next, atNs: due)
                try sender.publish(messages[next])
                next += 1
            }
            if next < total {
                let due = started + UInt64(Double(next) * interval)
                let wait = due > now ? due - now : 0
                if wait > 50_000 { try? await Task.sleep(for: .nanoseconds(Int64(wait - 20_000))) }
            }
        }
        let sendSeconds = Double(Ledger.now() - started) / 1e9
        _ = await drain(ledger, expected: total, timeout: .seconds(5))
        return Phase(
            mode: "open", workload: workload.name, targetRate: rate, ledger: ledger, seconds: sendSeconds)
    }

    /// As many requests as the system takes, `inFlight` outstanding: the throughput.
    func saturation(_ workload: Workload, seconds: Double, inFlight: Int, first: Int, capacity: Int) async throws
        -> Phase
    {
        let ledger = Ledger(capacity: first + capacity)
        measure(into: ledger)
        let started = Ledger.now()
        let deadline = started + UInt64(seconds * 1e9)
        // If responses stop altogether, the sender must not wait for a slot forever.
        let watchdog = Task {
            try? await Task.sleep(for: .seconds(seconds + 3))
            ledger.releaseWaiters()
        }
        defer { watchdog.cancel() }
        var sequence = first
        while Ledger.now() < deadline, sequence < first + capacity {
            await ledger.waitForSlot(limit: inFlight)
            let message = workload.request(sequence)
            ledger.markSent(sequence, atNs: Ledger.now())
            try sender.publish(message)
            sequence += 1
        }
        // Throughput counts what completed within the window.
        let completedInWindow = ledger.completed
        let window = Double(Ledger.now() - started) / 1e9
        _ = await drain(ledger, expected: sequence - first, timeout: .seconds(5))
        var phase = Phase(
            mode: "saturation", workload: workload.name, targetRate: nil, ledger: ledger, seconds: window)
        phase.throughput = Double(completedInWindow) / window
        return phase
    }

    /// Waits until no response has arrived for `quiet` (at most `limit`): a phase that overloaded
    /// the gateway leaves a backlog that must not be counted against the next one.
    func settle(quiet: Duration = .seconds(1), limit: Duration = .seconds(60)) async {
        let deadline = ContinuousClock.now + limit
        let quietNs = UInt64(quiet.seconds * 1e9)
        while ContinuousClock.now < deadline {
            let last = lastResponseNs.withLock { $0 }
            if Ledger.now() &- last > quietNs { return }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Waits until `expected` responses arrived or `timeout` passed; returns whether all did.
    func drain(_ ledger: Ledger, expected: Int, timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ledger.completed < expected, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        ledger.releaseWaiters()
        return ledger.completed >= expected
    }
}
