import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A real PostgreSQL (Debian's packages) for one test: `initdb` in a temporary folder, the
/// server on a free loopback port, stopped by its pid and the folder removed. Started as root
/// (CI, containers), both run as the `postgres` user through `setpriv`, which execs in place so
/// the pid the test holds is the postmaster's own.
public final class PostgresServer: Sendable {
    public struct StartFailure: Error, CustomStringConvertible {
        public var description: String
    }

    public let port: Int
    public let directory: URL
    public var dataDirectory: URL { directory.appendingPathComponent("data") }
    public var logFile: URL { directory.appendingPathComponent("postgres.log") }
    /// The superuser, trusted on loopback (the tests' own server only).
    public static let user = "postgres"
    public static let database = "postgres"
    private let process = Mutex<ChildProcess?>(nil)
    /// TLS with this certificate and key (copied into the server's folder, owned by it).
    private let tls: (certificate: String, key: String)?

    private init(port: Int, directory: URL, tls: (certificate: String, key: String)? = nil) {
        self.port = port
        self.directory = directory
        self.tls = tls
    }

    /// Where Debian installs the server binaries (the newest major version present).
    static func binary(_ name: String) throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap(Int.init).sorted()
        guard let version = versions.last,
            FileManager.default.isExecutableFile(atPath: "\(root)/\(version)/bin/\(name)")
        else {
            throw StartFailure(description: "PostgreSQL is not installed (apt-get install postgresql)")
        }
        return "\(root)/\(version)/bin/\(name)"
    }

    /// Runs as `postgres` when the tests run as root (initdb and postgres refuse root).
    static func command(_ executable: String, _ arguments: [String]) -> (String, [String]) {
        guard geteuid() == 0 else { return (executable, arguments) }
        return (
            "/usr/bin/setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", executable] + arguments
        )
    }

    /// `tls`: a server certificate and key; the server then offers TLS (and still plain TCP).
    public static func start(tls: (certificate: String, key: String)? = nil) throws -> PostgresServer {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("postgres-test-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if geteuid() == 0 {
            guard let account = getpwnam("postgres") else {
                throw StartFailure(description: "no postgres user (apt-get install postgresql)")
            }
            chown(directory.path, account.pointee.pw_uid, account.pointee.pw_gid)
        }
        do {
            let (initdb, arguments) = command(
                try binary("initdb"),
                [
                    "-D", directory.appendingPathComponent("data").path, "-U", user, "-A", "trust", "-E", "UTF8",
                    "--no-instructions", "--no-sync",
                ])
            let result = try ExternalTool.capture(initdb, arguments)
            guard result.status == 0 else {
                throw StartFailure(description: "initdb failed: \(result.standardError.suffix(500))")
            }
            var copied: (certificate: String, key: String)?
            if let tls {
                let certificate = directory.appendingPathComponent("server.crt").path
                let key = directory.appendingPathComponent("server.key").path
                try FileManager.default.copyItem(atPath: tls.certificate, toPath: certificate)
                try FileManager.default.copyItem(atPath: tls.key, toPath: key)
                chmod(key, 0o600)
                if geteuid() == 0, let account = getpwnam("postgres") {
                    for file in [certificate, key] { chown(file, account.pointee.pw_uid, account.pointee.pw_gid) }
                }
                copied = (certificate, key)
            }
            var attempt = 1
            while true {
                let server = PostgresServer(port: try LoopbackPort.free(), directory: directory, tls: copied)
                do {
                    try server.launch()
                    return server
                } catch let error as StartFailure where attempt < 5 && error.description.contains("in use") {
                    attempt += 1
                }
            }
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    private func launch() throws {
        let (postgres, arguments) = Self.command(
            try Self.binary("postgres"),
            [
                "-D", dataDirectory.path, "-p", "\(port)", "-c", "listen_addresses=127.0.0.1",
                "-c", "unix_socket_directories=\(directory.path)", "-c", "max_connections=100",
                "-c", "shared_buffers=32MB", "-c", "log_min_messages=warning",
            ]
                + (tls.map {
                    ["-c", "ssl=on", "-c", "ssl_cert_file=\($0.certificate)", "-c", "ssl_key_file=\($0.key)"]
                } ?? []))
        let child = try ChildProcess(executable: postgres, arguments: arguments, outputFile: logFile)
        process.withLock { $0 = child }
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if !child.isRunning {
                let log = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
                process.withLock { $0 = nil }
                throw StartFailure(
                    description:
                        "postgres exited at start (\(log.contains("Address already in use") ? "port in use" : "status \(child.terminationStatus ?? -1)")): \(log.suffix(800))"
                )
            }
            if LoopbackPort.isListening(port, ownedBy: child.processIdentifier) { return }
            usleep(20_000)
        }
        stop()
        throw StartFailure(description: "postgres did not listen on port \(port) within 20 s")
    }

    // The async forms: initdb, the wait for the port and a stop's grace block for seconds, which
    // must not hold one of the two cooperative threads every in-process test's services share.

    /// `start(tls:)` on a thread of its own.
    public static func launch(tls: (certificate: String, key: String)? = nil) async throws -> PostgresServer {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try start(tls: tls) }) }.start()
        }
    }

    /// `stop()` on a thread of its own.
    public func stopped() async {
        await withCheckedContinuation { continuation in
            Thread {
                self.stop()
                continuation.resume()
            }.start()
        }
    }

    /// `tearDown()` on a thread of its own.
    public func tornDown() async {
        await withCheckedContinuation { continuation in
            Thread {
                self.tearDown()
                continuation.resume()
            }.start()
        }
    }

    /// `restart()` on a thread of its own.
    public func restarted() async throws {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try self.restart() }) }.start()
        }
    }

    public var processIdentifier: Int32? {
        process.withLock { $0?.isRunning == true ? $0?.processIdentifier : nil }
    }

    public var isRunning: Bool { processIdentifier != nil }

    /// A fast shutdown (SIGINT: clients are disconnected, the data is consistent).
    public func stop() {
        let child = process.withLock { process -> ChildProcess? in
            defer { process = nil }
            return process
        }
        child?.terminate(SIGINT, grace: .seconds(10))
    }

    /// Stopped and started again on the same port and data (a database restart under load).
    public func restart() throws {
        stop()
        try launch()
    }

    /// Runs SQL through `psql` as the superuser (a test changing rows behind the gateways' back);
    /// its output, one row per line, columns separated by `|`.
    public func sql(_ statement: String) async throws -> String {
        let result = try await ExternalTool.captureDetached(
            try Self.binary("psql"),
            ["-h", "127.0.0.1", "-p", "\(port)", "-U", Self.user, "-d", Self.database, "-Atqc", statement])
        guard result.status == 0 else {
            throw StartFailure(description: "psql failed: \(result.standardError.suffix(500))")
        }
        return result.standardOutput
    }

    public func log() -> String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    public func tearDown() {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit {
        let child = process.withLock { $0 }
        child?.terminate(SIGKILL, grace: .seconds(2))
    }
}
