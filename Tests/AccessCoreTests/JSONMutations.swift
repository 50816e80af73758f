import MQTTTesting

/// Byte flips, deletions, insertions and truncations of JSON payloads, from a fixed seed: the
/// inputs of the differential tests that hold the project's JSON readers to a reference.
enum JSONMutations {
    /// Bytes a mutation writes: JSON's punctuation, escapes, digits and literals' letters, and a
    /// few that are not allowed (NUL, control characters, a lone UTF-8 lead byte).
    static let alphabet = Array(#"{}[]:,"\\/u0123456789abcdefEe+-.tnl "#.utf8) + [0x00, 0x1F, 0x7F, 0xC3, 0xA9]

    /// `count` payloads, the seeds in turn, each with one to three mutations.
    static func of(_ seeds: [[UInt8]], count: Int, seed: UInt64) -> [[UInt8]] {
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
