import AccessCore
import AccessProtocol
import Crypto
import Foundation
import Testing

/// A prepared key gives the bytes a fresh HMAC gives, for any key length and message, reused and
/// from many threads at once (each code starts from a copy of the prepared state).
@Suite struct PreparedHMACTests {
    @Test(arguments: [1, 32, 64, 65, 200])
    func aPreparedKeyGivesTheSameCodeAsAFreshOne(keyBytes: Int) {
        let key = SymmetricKey(data: (0..<keyBytes).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        let prepared = PreparedHMAC(key: key)
        for length in [0, 1, 8, 63, 64, 65, 1000] {
            let message = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 13) }
            let expected = Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
            #expect(Array(prepared.code(for: message)) == expected, "key \(keyBytes) B, message \(length) B")
            // Used again: the first code left the prepared state as it was.
            #expect(Array(prepared.code(for: message)) == expected)
        }
    }

    @Test func codesMadeConcurrentlyFromOnePreparedKeyAreEachRight() async {
        let keyBytes = (0..<32).map { UInt8($0) }
        let prepared = PreparedHMAC(key: SymmetricKey(data: keyBytes))
        let wrong = await withTaskGroup(of: Int.self) { group in
            for task in 0..<8 {
                group.addTask {
                    let key = SymmetricKey(data: keyBytes)
                    var wrong = 0
                    for n in 0..<500 {
                        let message = Array("pin-\(task)-\(n)".utf8)
                        if Array(prepared.code(for: message))
                            != Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
                        {
                            wrong += 1
                        }
                    }
                    return wrong
                }
            }
            return await group.reduce(0, +)
        }
        #expect(wrong == 0)
    }
}
