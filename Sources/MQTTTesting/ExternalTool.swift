import Foundation

/// Runs the command-line tools the tests drive (mosquitto, mosquitto_passwd, openssl).
public enum ExternalTool {
    public struct Failure: Error, CustomStringConvertible {
        public var command: String
        public var status: Int32
        public var output: String
        public var description: String { "`\(command)` exited \(status): \(output)" }
    }

    /// The absolute path of `name`, searched in PATH and the sbin folders Debian uses.
    public static func locate(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let folders = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/local/sbin", "/sbin"]
        for folder in folders {
            let candidate = folder + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs `name` to completion and returns its combined output; throws when it fails.
    @discardableResult
    public static func run(_ name: String, _ arguments: [String], in directory: URL? = nil) throws -> String {
        guard let executable = locate(name) else {
            throw Failure(command: name, status: 127, output: "\(name) is not installed")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let output = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw Failure(
                command: ([name] + arguments).joined(separator: " "), status: process.terminationStatus,
                output: output)
        }
        return output
    }
}
