import Foundation
import MQTTTesting
import Testing

/// What the differential tests share, which hold the project's JSON readers to a reference
/// (`JSONDecoder`, or a decoder written for the test): mutated inputs, the verdict on each, and
/// Python's strict `json` module as the judge of whether a refused input was JSON at all.
enum JSONDifferential {
    enum Verdict: Equatable {
        case agree
        /// The reader refused as "not JSON" what the reference let through: to be confirmed.
        case readerStricter
        case disagree(String)
    }

    /// Every payload agrees, or the reader refused one that Python's `json` module refuses too.
    static func expectAgreement(_ payloads: [[UInt8]], _ check: ([UInt8]) -> Verdict) throws {
        var stricter: [[UInt8]] = []
        for payload in payloads {
            switch check(payload) {
            case .agree: break
            case .readerStricter: stricter.append(payload)
            case .disagree(let problem): Issue.record("\(String(decoding: payload, as: UTF8.self)): \(problem)")
            }
        }
        let valid = try validJSON(stricter)
        #expect(valid.count == stricter.count)
        for (payload, isJSON) in zip(stricter, valid) where isJSON {
            Issue.record("refused valid JSON: \(String(decoding: payload, as: UTF8.self))")
        }
    }

    /// The payloads Python's strict `json` module accepts (NaN and Infinity refused too).
    static func validJSON(_ payloads: [[UInt8]]) throws -> [Bool] {
        guard !payloads.isEmpty else { return [] }
        let script = """
            import base64, json, sys
            def refuse(name): raise ValueError(name)
            for line in sys.stdin:
                try:
                    json.loads(base64.b64decode(line).decode("utf-8"), parse_constant=refuse)
                    print(1)
                except Exception:
                    print(0)
            """
        let input = payloads.map { Data($0).base64EncodedString() }.joined(separator: "\n") + "\n"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script]
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: output, as: UTF8.self).split(separator: "\n").map { $0 == "1" }
    }

    /// Bytes a mutation writes: JSON's punctuation, escapes, digits and literals' letters, and a
    /// few that are not allowed (NUL, control characters, a lone UTF-8 lead byte).
    static let alphabet = Array(#"{}[]:,"\\/u0123456789abcdefEe+-.tnl "#.utf8) + [0x00, 0x1F, 0x7F, 0xC3, 0xA9]

    /// Byte flips, deletions, insertions and truncations from a fixed seed: `count` payloads,
    /// the seeds in turn, each with one to three mutations.
    static func mutations(of seeds: [[UInt8]], count: Int, seed: UInt64) -> [[UInt8]] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { round in
            var payload = seeds[round % seeds.count]
            for _ in 0..<(1 + Int(random.next() % 3)) {
                guard !payload.isEmpty else { break }
                let at = Int(random.next() % UInt64(payload.count))
                switch random.next() % 4 {
                case 0: payload[at] = alphabet[Int(random.next() % UInt64(alphabet.count))]
                case 1: payload.remove(at: at)
                case 2: payload.insert(alphabet[Int(random.next() % UInt64(alphabet.count))], at: at)
                default: payload = Array(payload[..<at])
                }
            }
            return payload
        }
    }
}
