import ArgumentParser
import Foundation

/// The command lines of `--script FILE`, or of stdin without one.
func scriptLines(_ script: String?) throws -> [String] {
    if let script {
        guard let text = try? String(contentsOfFile: script, encoding: .utf8) else {
            throw ValidationError("--script \(script): cannot read")
        }
        return text.split(separator: "\n").map(String.init)
    }
    var input: [String] = []
    while let line = readLine() { input.append(line) }
    return input
}
