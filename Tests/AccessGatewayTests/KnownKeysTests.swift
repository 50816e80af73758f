import AccessTesting
import Foundation
import Testing

@testable import AccessConfiguration

/// The list of keys the gateway knows matches the annotated example, commented keys included.
@Suite struct KnownKeysTests {
    @Test func everyKeyOfTheExampleIsKnownAndEveryKnownKeyIsInTheExample() throws {
        let example = try String(
            contentsOfFile: PackagePaths.root + "/config/gateway.example.yaml", encoding: .utf8)
        // The optional keys are shown commented out ("  # clientId: ..."): uncomment them.
        let uncommented = example.split(separator: "\n", omittingEmptySubsequences: false)
            .map { Self.uncommentKey(String($0)) ?? String($0) }.joined(separator: "\n")
        #expect(try GatewayConfiguration.unknownKeys(inYAML: uncommented) == [])
        var seen: Set<String> = []
        for key in GatewayConfiguration.knownKeys {
            let last = String(key.split(separator: ".").last ?? "")
            if uncommented.contains(last + ":") { seen.insert(key) }
        }
        #expect(
            seen == GatewayConfiguration.knownKeys,
            "not in the example: \(GatewayConfiguration.knownKeys.subtracting(seen))")
    }

    /// "  #   caFile:  # note" -> "    caFile:" (the "#" and one space removed, the note dropped);
    /// nil for a line that is not a commented-out key.
    static func uncommentKey(_ line: String) -> String? {
        guard let hash = line.firstIndex(of: "#"), line[..<hash].allSatisfy({ $0 == " " }) else { return nil }
        let afterHash = line[line.index(after: hash)...]
        guard afterHash.first == " " else { return nil }
        let body = afterHash.dropFirst()
        let content = body.drop(while: { $0 == " " })
        guard let colon = content.firstIndex(of: ":"), !content[..<colon].isEmpty,
            content[..<colon].allSatisfy(\.isLetter)
        else { return nil }
        let withoutNote = body.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? body
        return String(line[..<hash]) + withoutNote
    }

    @Test func misspeltKeysAreFoundWhereverTheyAre() throws {
        let yaml = """
            gateway: {id: gw-1}
            brokr: {port: 1883}
            broker:
              tls: {cafile: /x}
            policy:
              pinDigits: 8
              maxFailure: 3
            """
        #expect(
            try GatewayConfiguration.unknownKeys(inYAML: yaml) == ["brokr", "broker.tls.cafile", "policy.maxFailure"])
    }
}
