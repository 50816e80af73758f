import Foundation

extension ExternalTool {
    /// What a finished command printed and how it exited.
    public struct Captured: Sendable {
        public var status: Int32
        public var standardOutput: String
        public var standardError: String
    }

    /// Runs `executable` (a path, or a name searched in PATH) to completion with `input` on stdin
    /// and returns its exit status, stdout and stderr separately; never throws for a non-zero exit.
    public static func capture(_ executable: String, _ arguments: [String], input: String = "") throws -> Captured {
        let path = executable.contains("/") ? executable : (locate(executable) ?? executable)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("capture-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let files = ["in", "out", "err"].map { directory.appendingPathComponent($0) }
        try Data(input.utf8).write(to: files[0])
        for file in files.dropFirst() { try Data().write(to: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardInput = try FileHandle(forReadingFrom: files[0])
        process.standardOutput = try FileHandle(forWritingTo: files[1])
        process.standardError = try FileHandle(forWritingTo: files[2])
        try process.run()
        process.waitUntilExit()
        return Captured(
            status: process.terminationStatus,
            standardOutput: String(decoding: try Data(contentsOf: files[1]), as: UTF8.self),
            standardError: String(decoding: try Data(contentsOf: files[2]), as: UTF8.self))
    }
}

extension ExternalTool {
    /// `capture` on a thread of its own, so a long-running command does not hold one of the
    /// few threads of Swift's cooperative pool (on 2 cores, two such waits would stall every
    /// other test's tasks).
    public static func captureDetached(_ executable: String, _ arguments: [String], input: String = "") async throws
        -> Captured
    {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try capture(executable, arguments, input: input) })
            }
            thread.start()
        }
    }
}
