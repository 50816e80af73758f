import Foundation
import MQTT
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A real mosquitto broker for tests: its own config in a temporary folder, a free loopback
/// port, started and awaited until it accepts connections, and stopped by its own pid.
///
/// Prefer `withMosquittoBroker { broker in ... }`, which stops the broker however the body ends.
public final class MosquittoBroker: Sendable {
    public struct TLSListener: Sendable {
        public var caFile: String
        public var certificateFile: String
        public var keyFile: String
        /// Require and verify a client certificate signed by `caFile`.
        public var requireClientCertificate: Bool

        public init(caFile: String, certificateFile: String, keyFile: String, requireClientCertificate: Bool = true) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.requireClientCertificate = requireClientCertificate
        }
    }

    public struct Options: Sendable {
        /// Adds a TLS listener on a second free port.
        public var tls: TLSListener?
        /// username -> password; when set, anonymous clients are refused.
        public var passwords: [String: String]?
        /// Extra lines appended to the generated mosquitto.conf.
        public var extraConfiguration: String

        public init(tls: TLSListener? = nil, passwords: [String: String]? = nil, extraConfiguration: String = "") {
            self.tls = tls
            self.passwords = passwords
            self.extraConfiguration = extraConfiguration
        }
    }

    public struct StartFailure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The plain MQTT listener on 127.0.0.1.
    public let port: Int
    /// The TLS listener on 127.0.0.1, when configured.
    public let tlsPort: Int?
    public let directory: URL
    public let configurationFile: URL
    public let logFile: URL
    private let process = Mutex<ChildProcess?>(nil)
    private let watchdog = Mutex<ChildProcess?>(nil)

    private init(port: Int, tlsPort: Int?, directory: URL) {
        self.port = port
        self.tlsPort = tlsPort
        self.directory = directory
        configurationFile = directory.appendingPathComponent("mosquitto.conf")
        logFile = directory.appendingPathComponent("mosquitto.log")
    }

    /// Writes the configuration and starts the broker; returns once it accepts connections.
    public static func start(_ options: Options = Options()) throws -> MosquittoBroker {
        try launchInFreshFolder { directory in
            let port = try LoopbackPort.free()
            let tlsPort = options.tls == nil ? nil : try LoopbackPort.free()
            let broker = MosquittoBroker(port: port, tlsPort: tlsPort, directory: directory)
            try broker.writeConfiguration(options)
            return broker
        }
    }

    /// Prepares a broker in a folder of its own and launches it; the folder goes if it fails. A
    /// port found free can be taken before mosquitto binds it (by another test's broker, or as
    /// the ephemeral source port of some outgoing connection): then it starts again on another.
    static func launchInFreshFolder(_ prepare: (URL) throws -> MosquittoBroker) throws -> MosquittoBroker {
        var attempt = 1
        while true {
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("mosquitto-test-\(UUID().uuidString)", isDirectory: true)
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                let broker = try prepare(directory)
                try broker.launch()
                return broker
            } catch let error as StartFailure where attempt < 5 && error.description.contains("Address already in use")
            {
                try? FileManager.default.removeItem(at: directory)
                attempt += 1
            } catch {
                try? FileManager.default.removeItem(at: directory)
                throw error
            }
        }
    }

    /// Starts mosquitto with a whole configuration of the caller's, such as a shipped example
    /// file with its paths and port rewritten. `makeConfiguration` gets the free port its single
    /// listener must use (on 127.0.0.1) and the broker's folder; logging to `logFile` is added,
    /// and `port` and `tlsPort` both name that listener.
    public static func start(
        configuration makeConfiguration: (_ port: Int, _ directory: URL) throws -> String
    ) throws -> MosquittoBroker {
        try launchInFreshFolder { directory in
            let port = try LoopbackPort.free()
            let broker = MosquittoBroker(port: port, tlsPort: port, directory: directory)
            var text = try makeConfiguration(port, directory)
            text += "\n# Added by MosquittoBroker for the test run.\nlog_dest file \(broker.logFile.path)\n"
            if geteuid() == 0 { text += "user root\n" }
            try text.write(to: broker.configurationFile, atomically: true, encoding: .utf8)
            return broker
        }
    }

    private func writeConfiguration(_ options: Options) throws {
        var lines = [
            "# Written by MosquittoBroker for one test run.",
            "per_listener_settings false",
            "persistence false",
            "set_tcp_nodelay true",
            "log_dest file \(logFile.path)",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
            "listener \(port) 127.0.0.1",
        ]
        // Started as root, mosquitto switches to the 'mosquitto' user, which cannot read the
        // test's files; stay the user that runs the tests.
        if geteuid() == 0 { lines.insert("user root", at: 1) }
        if let passwords = options.passwords {
            let passwordFile = directory.appendingPathComponent("passwords")
            try Data().write(to: passwordFile)
            for (user, password) in passwords.sorted(by: { $0.key < $1.key }) {
                try ExternalTool.run("mosquitto_passwd", ["-b", passwordFile.path, user, password])
            }
            lines += ["allow_anonymous false", "password_file \(passwordFile.path)"]
        } else {
            lines.append("allow_anonymous true")
        }
        if let tls = options.tls, let tlsPort {
            lines += [
                "listener \(tlsPort) 127.0.0.1",
                "cafile \(tls.caFile)",
                "certfile \(tls.certificateFile)",
                "keyfile \(tls.keyFile)",
                "tls_version tlsv1.2",
                "require_certificate \(tls.requireClientCertificate)",
            ]
        }
        if !options.extraConfiguration.isEmpty { lines.append(options.extraConfiguration) }
        try (lines.joined(separator: "\n") + "\n").write(to: configurationFile, atomically: true, encoding: .utf8)
    }

    private func launch() throws {
        guard let executable = ExternalTool.locate("mosquitto") else {
            throw StartFailure(description: "mosquitto is not installed (apt-get install mosquitto)")
        }
        let outputFile = directory.appendingPathComponent("output.log")
        let child = try ChildProcess(
            executable: executable, arguments: ["-c", configurationFile.path], outputFile: outputFile)
        process.withLock { $0 = child }
        startWatchdog(brokerPID: child.processIdentifier)
        try? "\(child.processIdentifier)\n".write(
            to: directory.appendingPathComponent("mosquitto.pid"), atomically: true, encoding: .utf8)
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if !child.isRunning {
                let output = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
                throw StartFailure(
                    description:
                        "mosquitto exited at start (status \(child.terminationStatus ?? -1)): \(output) \(log())")
            }
            // Its own listening sockets, not merely something on the port: a port taken by
            // another broker between `free()` and bind makes this one exit, maybe after a
            // connect to the other has already succeeded.
            let pid = child.processIdentifier
            if LoopbackPort.isListening(port, ownedBy: pid)
                && (tlsPort.map { LoopbackPort.isListening($0, ownedBy: pid) } ?? true)
            {
                return
            }
            usleep(10_000)
        }
        stop()
        throw StartFailure(description: "mosquitto did not accept connections on port \(port) within 10 s")
    }

    public var processIdentifier: Int32? {
        process.withLock { $0?.isRunning == true ? $0?.processIdentifier : nil }
    }

    public var isRunning: Bool { processIdentifier != nil }

    /// SIGTERM, then SIGKILL if it has not exited within 5 s; waits for the exit.
    public func stop() {
        signalAndWait(SIGTERM, escalateAfter: 5)
    }

    /// SIGKILL: the broker vanishes without closing anything, as in a crash or power loss.
    public func kill() {
        signalAndWait(SIGKILL, escalateAfter: nil)
    }

    /// SIGSTOP: the broker freezes with its connections open (nothing is acknowledged); `resume()`
    /// or `kill()` ends it.
    public func pause() {
        if let pid = processIdentifier { Glibc.kill(pid, SIGSTOP) }
    }

    public func resume() {
        if let pid = processIdentifier { Glibc.kill(pid, SIGCONT) }
    }

    /// Starts the broker again with the same configuration and ports.
    public func restart() throws {
        stop()
        try launch()
    }

    /// The broker's log so far (for assertions and for failure messages).
    public func log() -> String {
        (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
    }

    /// If the test process dies without stopping the broker (a crash, a CI timeout), this
    /// little shell loop notices within a second and kills the broker, so none is left behind.
    private func startWatchdog(brokerPID: pid_t) {
        let script =
            "while kill -0 \(getpid()) 2>/dev/null && kill -0 \(brokerPID) 2>/dev/null; do sleep 1; done; "
            + "kill -9 \(brokerPID) 2>/dev/null"
        let dog = try? ChildProcess(executable: "/bin/sh", arguments: ["-c", script])
        watchdog.withLock { $0 = dog }
    }

    private func signalAndWait(_ signal: Int32, escalateAfter seconds: Double?) {
        let dog = watchdog.withLock { watchdog -> ChildProcess? in
            defer { watchdog = nil }
            return watchdog
        }
        dog?.terminate(SIGKILL)
        let child = process.withLock { process -> ChildProcess? in
            defer { process = nil }
            return process
        }
        child?.terminate(signal, grace: .milliseconds(Int64((seconds ?? 10) * 1000)))
    }

    /// Stops the broker and removes its folder.
    public func tearDown() {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit {
        // Last line of defence: never leave a broker behind.
        signalAndWait(SIGKILL, escalateAfter: nil)
    }
}

/// Starts a broker, runs `body`, and stops the broker and removes its files however `body` ends.
public func withMosquittoBroker<Result>(
    _ options: MosquittoBroker.Options = MosquittoBroker.Options(),
    _ body: (MosquittoBroker) async throws -> Result
) async throws -> Result {
    let broker = try MosquittoBroker.start(options)
    defer { broker.tearDown() }
    return try await body(broker)
}

extension MosquittoBroker {
    /// A client configuration for this broker's plain listener, with fast reconnects for tests.
    public func clientConfiguration(clientID: String) -> MQTTClient.Configuration {
        MQTTClient.Configuration(
            host: "127.0.0.1", port: port, clientID: clientID, keepAliveSeconds: 10,
            reconnectBackoff: ReconnectBackoff(initialDelay: .milliseconds(50), maximumDelay: .milliseconds(500)),
            connectTimeout: .seconds(5), acknowledgementTimeout: .seconds(5))
    }
}

extension MosquittoBroker {
    /// A client of this broker, already connected (one attempt; throws the reason).
    public func connectedClient(
        _ clientID: String, configure: (inout MQTTClient.Configuration) -> Void = { _ in }
    ) async throws -> MQTTClient {
        var configuration = clientConfiguration(clientID: clientID)
        configure(&configuration)
        let client = try MQTTClient(configuration: configuration, logger: TestLogging.logger("mqtt"))
        try await client.connect()
        return client
    }
}
