import AccessProtocol
import Crypto
import Foundation

/// What one Ed25519 verification costs on one core of this machine, measured in this process on
/// the run's own tokens. A unique token cannot cost less than a repeated one plus this: the issue's
/// "limited only by Ed25519" is a unique token's CPU per decision at that sum.
struct Ed25519Floor {
    /// Wall time of one verification on one thread, in microseconds: the median of ten batches' means.
    var usPerVerification: Double
    var verifications: Int

    var perCorePerSecond: Double { usPerVerification > 0 ? 1e6 / usPerVerification : 0 }

    /// Verifies up to `count` of `tokens` (signature over `header.payload`, as the gateway
    /// does), after a short warm-up; nil when a token does not split or does not verify, so a
    /// broken measurement is never printed as a figure.
    static func measure(tokens: [String], issuerKey: Curve25519.Signing.PublicKey, count: Int = 3_000)
        -> Ed25519Floor?
    {
        var inputs: [(signed: [UInt8], signature: [UInt8])] = []
        inputs.reserveCapacity(min(count, tokens.count))
        for token in tokens.prefix(count) {
            let parts = token.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 3, let signature = Base64URL.decode(parts[2]) else { return nil }
            inputs.append((Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count)), signature))
        }
        guard !inputs.isEmpty else { return nil }
        for input in inputs.prefix(100) where !issuerKey.isValidSignature(input.signature, for: input.signed) {
            return nil
        }
        // Ten batches, and the median batch's mean: this host's neighbours steal whole
        // milliseconds now and then, and one such batch should not move the figure.
        let batch = max(1, inputs.count / 10)
        var means: [Double] = []
        var valid = 0
        for start in stride(from: 0, to: inputs.count - batch + 1, by: batch) {
            let started = ContinuousClock.now
            for input in inputs[start..<start + batch]
            where issuerKey.isValidSignature(input.signature, for: input.signed) {
                valid += 1
            }
            means.append((ContinuousClock.now - started).seconds * 1e6 / Double(batch))
        }
        guard valid == means.count * batch, !means.isEmpty else { return nil }
        return Ed25519Floor(usPerVerification: means.sorted()[means.count / 2], verifications: valid)
    }
}
