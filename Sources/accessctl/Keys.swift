import AccessCore
import AccessProtocol
import AccessStore
import ArgumentParser
import Crypto
import Foundation

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make and use the site's keys.", subcommands: [Generate.self, Issuer.self, Device.self])

    /// Writes a new secret file with mode 0600, refusing to replace one unless forced.
    static func writeSecret(_ bytes: [UInt8], to path: String, force: Bool) throws {
        if FileManager.default.fileExists(atPath: path), !force {
            throw Failure(
                "\(path) exists; pass --force to replace it (devices provisioned with the old key stop working)")
        }
        let hex = bytes.map { String(format: "%02x", $0) }.joined() + "\n"
        try? FileManager.default.removeItem(atPath: path)
        guard
            FileManager.default.createFile(
                atPath: path, contents: Data(hex.utf8), attributes: [.posixPermissions: 0o600])
        else { throw Failure("cannot write \(path)") }
    }

    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate the siteKey and pinKey files (32 random bytes each, mode 0600).")
        @Option(name: .customLong("site-key"), help: "Where to write the siteKey.") var siteKey: String
        @Option(
            name: .customLong("pin-key"), help: "Where to write the pinKey (share it with the booking backend only).")
        var pinKey: String
        @Flag(help: "Replace existing files.") var force = false

        func run() async throws {
            for path in [siteKey, pinKey] where FileManager.default.fileExists(atPath: path) && !force {
                throw Failure(
                    "\(path) exists; pass --force to replace it (devices provisioned with the old key stop working)")
            }
            try Keys.writeSecret(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }, to: siteKey, force: force)
            try Keys.writeSecret(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }, to: pinKey, force: force)
            print("wrote \(siteKey) and \(pinKey) (mode 0600)")
        }
    }

    struct Issuer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate (or read) an Ed25519 issuer key pair and print the gateway's issuers line.",
            discussion:
                "For tests and small sites that issue their own tokens; the private key never goes to the gateway.")
        @Option(name: .customLong("private-key"), help: "The issuer's private key file (64 hex digits).")
        var privateKey: String
        @Option(help: "Key id.") var kid = "kid-1"
        @Option(help: "Issuer (iss) the tokens carry.") var issuer = "https://booking.example"
        @Flag(help: "Create the private key file if it does not exist.") var create = false

        func validate() throws {
            guard Identifier.isValid(kid) else { throw ValidationError("--kid breaks the identifier rule") }
            guard !issuer.contains(" "), !issuer.isEmpty else {
                throw ValidationError("--issuer must be one word (a URL)")
            }
        }

        func run() async throws {
            if create, !FileManager.default.fileExists(atPath: privateKey) {
                try Keys.writeSecret(
                    Array(Curve25519.Signing.PrivateKey().rawRepresentation), to: privateKey, force: false)
            }
            let key = try loadIssuerKey(privateKey)
            print("\(kid) \(issuer) \(Base64URL.encode(Array(key.publicKey.rawRepresentation)))")
        }
    }

    struct Device: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a lock's or pole's derived key, to provision the device.")
        @Option(name: .customLong("site-key"), help: "The siteKey file.") var siteKey: String
        @Option(name: .customLong("site-id"), help: "The site id.") var siteID: String
        @Argument(help: "lock or pole.") var kind: String
        @Argument(help: "The device id.") var id: String

        func validate() throws {
            guard kind == "lock" || kind == "pole" else {
                throw ValidationError("the device kind must be lock or pole")
            }
            guard Identifier.isValid(id), Identifier.isValid(siteID) else {
                throw ValidationError("ids must follow the identifier rule")
            }
        }

        func run() async throws {
            let keys = DeviceKeys(siteKey: try SecretKeyFile.load(path: siteKey), siteID: siteID)
            let key = kind == "lock" ? keys.lockKey(lockID: id) : keys.poleKey(poleID: id)
            print(key.withUnsafeBytes { $0.map { String(format: "%02x", $0) }.joined() })
        }
    }
}

func loadIssuerKey(_ path: String) throws -> Curve25519.Signing.PrivateKey {
    let seed = try SecretKeyFile.load(path: path)
    return try seed.withUnsafeBytes { try Curve25519.Signing.PrivateKey(rawRepresentation: Array($0)) }
}

struct Tokens: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Booking tokens, for tests and support.", subcommands: [Issue.self])

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mint a token for a stored reservation with an issuer private key.")
        @OptionGroup var store: StoreOptions
        @Option(help: "The reservation id.") var reservation: String
        @Option(name: .customLong("private-key"), help: "The issuer's private key file.") var privateKey: String
        @Option(help: "Key id.") var kid = "kid-1"
        @Option(help: "Issuer (iss).") var issuer = "https://booking.example"
        @Option(help: "Token id (default: random).") var jti: String?

        func run() async throws {
            guard Identifier.isValid(reservation) else {
                throw ValidationError("\"\(reservation)\" is not a reservation id")
            }
            let key = try loadIssuerKey(privateKey)
            guard let r = try await store.open().reservation(id: reservation) else {
                throw Failure("no reservation \(reservation) in the store")
            }
            let id = jti ?? Identifier.random(prefix: "t-")
            let claims = BookingTokenSigner.claims(
                issuer: issuer, holder: r.holder, reservationID: r.id, spaceID: r.spaceID,
                issuedAtS: Int64(Date().timeIntervalSince1970), notBeforeS: r.windowStartMs / 1000,
                expiresS: (r.windowEndMs + 999) / 1000, jti: id)
            print(
                try BookingTokenSigner.sign(
                    header: BookingTokenSigner.header(kid: kid), claims: claims, privateKey: key))
        }
    }
}
