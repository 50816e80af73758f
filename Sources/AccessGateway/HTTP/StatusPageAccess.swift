import Crypto
import Foundation

/// Who may see the status page. On a loopback address, anyone who can reach it (the machine's
/// own users). Anywhere else, only a client presenting the token from `http.tokenFile`, as a
/// bearer token or as basic auth's password; without a token file the page is refused there.
struct StatusPageAccess: Sendable {
    enum Verdict: Equatable {
        case allowed
        /// 401 with a Basic challenge, so that a browser asks.
        case unauthorized
        /// 403: served on loopback only unless a token is configured.
        case loopbackOnly
    }

    /// SHA-256 of the token: compared in constant time, and the token itself is not kept.
    private let tokenDigest: [UInt8]?
    private let loopbackListener: Bool

    init(token: String?, loopbackListener: Bool) {
        tokenDigest = token.map { Array(SHA256.hash(data: Array($0.utf8))) }
        self.loopbackListener = loopbackListener
    }

    /// Reads the token file (its first line; at least 16 characters).
    static func loadToken(path: String) throws -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            let token = text.split(whereSeparator: \.isNewline).first.map(String.init), token.count >= 16
        else {
            throw StatusPageAccessError("http.tokenFile \(path): cannot read a token of at least 16 characters")
        }
        return token
    }

    func check(authorization: String?) -> Verdict {
        guard let tokenDigest else { return loopbackListener ? .allowed : .loopbackOnly }
        guard let presented = Self.presentedToken(authorization) else { return .unauthorized }
        let digest = Array(SHA256.hash(data: Array(presented.utf8)))
        var difference: UInt8 = 0
        for (a, b) in zip(digest, tokenDigest) { difference |= a ^ b }
        return difference == 0 ? .allowed : .unauthorized
    }

    /// `Bearer <token>`, or `Basic base64(user:token)` (any user name).
    static func presentedToken(_ header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return nil }
        switch parts[0].lowercased() {
        case "bearer": return parts[1].trimmingCharacters(in: .whitespaces)
        case "basic":
            guard let data = Data(base64Encoded: parts[1].trimmingCharacters(in: .whitespaces)),
                let pair = String(data: data, encoding: .utf8), let colon = pair.firstIndex(of: ":")
            else { return nil }
            return String(pair[pair.index(after: colon)...])
        default: return nil
        }
    }
}

struct StatusPageAccessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
