import Foundation
import MQTTTesting

/// systemd's side of `sd_notify`: a datagram socket whose messages are written, one a line
/// (with the time when `timestamps`), to a file the test reads. Stopped by `stop()`.
struct NotifyListener {
    let socketPath: String
    let receivedPath: String
    let process: ChildProcess

    init(directory: String, timestamps: Bool = false) async throws {
        socketPath = directory + "/notify.sock"
        receivedPath = directory + "/notify.log"
        guard let python = ExternalTool.locate("python3") else { throw NotifyListenerError.noPython }
        let line = timestamps ? #"b"%.3f " % time.time() + data + b"\n""# : #"data + b"\n""#
        process = try ChildProcess(
            executable: python,
            arguments: [
                "-c",
                """
                import socket, sys, time
                s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1])
                while True:
                    data = s.recv(4096)
                    with open(sys.argv[2], "ab") as f: f.write(\(line))
                """,
                socketPath, receivedPath,
            ])
        let socketPath = self.socketPath
        _ = await eventually { FileManager.default.fileExists(atPath: socketPath) }
    }

    /// Everything received so far.
    var notes: String { (try? String(contentsOfFile: receivedPath, encoding: .utf8)) ?? "" }

    /// How many `WATCHDOG=1` were received.
    var watchdogs: Int { notes.components(separatedBy: "WATCHDOG=1").count - 1 }

    func stop() {
        process.terminate(SIGKILL, grace: .seconds(1))
    }
}

enum NotifyListenerError: Error {
    case noPython
}
