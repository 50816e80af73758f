import AccessProtocol
import Synchronization

/// Tokens whose signature and claims already verified, by their exact text, so that a holder
/// badging in again costs a dictionary lookup instead of an Ed25519 verification.
///
/// Only the signature and claim checks are skipped: time, revocation, reservation and space are
/// checked on every request. The cache belongs to one `TokenVerifier`, so a reload that changes
/// the issuers starts with an empty one. Bounded by two generations of `generationSize` entries:
/// when the current one is full it becomes the previous one and the oldest is dropped.
final class VerifiedTokenCache: Sendable {
    private struct Generations {
        var current: [String: BookingTokenClaims] = [:]
        var previous: [String: BookingTokenClaims] = [:]
    }

    private let generations = Mutex(Generations())
    let generationSize: Int

    init(generationSize: Int) {
        self.generationSize = max(1, generationSize)
    }

    func claims(for token: String) -> BookingTokenClaims? {
        generations.withLock { generations in
            if let claims = generations.current[token] { return claims }
            guard let claims = generations.previous[token] else { return nil }
            insert(token, claims, into: &generations)
            return claims
        }
    }

    func remember(_ token: String, _ claims: BookingTokenClaims) {
        generations.withLock { insert(token, claims, into: &$0) }
    }

    private func insert(_ token: String, _ claims: BookingTokenClaims, into generations: inout Generations) {
        if generations.current.count >= generationSize {
            generations.previous = generations.current
            generations.current = [:]
            generations.current.reserveCapacity(generationSize)
        }
        generations.current[token] = claims
    }

    var count: Int { generations.withLock { $0.current.count + $0.previous.count } }
}
