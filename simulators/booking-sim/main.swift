import AccessCore
import AccessProtocol
import ArgumentParser
import Crypto
import Foundation
import Logging
import MQTT
import MQTTTesting
import Simulation
import UnixSignals

/// `booking-sim`: the booking backend: reservations on R/bookings, each holder's token and PIN.
@main
struct BookingSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "booking-sim",
        abstract:
            "Act as the booking backend: publish reservations, cancel and reschedule some, issue tokens and PINs.",
        discussion: """
            The issuer key file holds the backend's Ed25519 private key (64 hex digits); --create-issuer-key
            makes one (mode 0600). --print-issuer prints the line for the gateway's `issuers` setting.
            Holders (reservation, holder, space, token, PIN) are written as NDJSON to --holders-out.
            `publish` (the default) publishes once and exits; `serve` is the long-running backend of the
            v1.1 feed: every message with its seq, kept in --feed-file, the retained head, and replays.
            """,
        version: BuildInfo.versionText,
        subcommands: [Publish.self, Serve.self], defaultSubcommand: Publish.self)
}

/// Publishes the reservations once (v1 messages, no feed sequence) and exits.
struct Publish: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Publish the reservations once and exit.")
    @OptionGroup var backend: BackendOptions

    func run() async throws {
        guard let made = try backend.prepare() else { return }
        let client = try MQTTClient(
            configuration: made.endpoint.configuration(clientID: "booking-sim-\(backend.site)-\(backend.seed)"),
            logger: Logger(label: "booking-sim"))
        try await client.connect()
        let topic = SiteTopics(prefix: backend.prefix, siteID: backend.site).bookings
        let summary = try await backend.publishReservations(made.signer) { message in
            try await client.publishAcknowledged(MQTTMessage(topic: topic, payload: message.payload))
        }
        print("booking-sim: \(backend.count) reservations published on \(topic) (\(summary))")
        await client.shutdown()
    }
}

/// The long-running backend of the v1.1 feed.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run as the booking backend: the feed with seq and head, kept on disk, and replays.",
        discussion: """
            Publishes the reservations through the feed (appended to what --feed-file holds), then keeps
            running: each gateway's replay request is answered with what it missed, or, when asked for a
            position older than the last --keep messages, with the current state and a resync. Reads
            `cancel <id> <version>` and `revoke <jti>` lines on standard input. Stops on SIGINT/SIGTERM.
            """)
    @OptionGroup var backend: BackendOptions
    @Option(help: "The feed's own file (NDJSON with seq); a restarted backend replays from it.")
    var feedFile: String
    @Option(help: "Messages kept for replay; an older position gets a resync.") var keep = 100_000

    func validate() throws {
        guard keep >= 1 else { throw ValidationError("--keep must be at least 1") }
    }

    func run() async throws {
        guard let made = try backend.prepare() else { return }
        let feed = try BookingFeedBackend(
            broker: made.endpoint, siteID: backend.site, prefix: backend.prefix,
            clientID: "booking-sim-\(backend.site)", feedFile: feedFile, keep: keep,
            logger: Logger(label: "booking-sim"))
        try await feed.start()
        if feed.headSeq > 0 { print("booking-sim: feed \(feedFile) reopened at seq \(feed.headSeq)") }
        // Reservations already in the feed (the same --seed again) change nothing: same versions.
        let summary = try await backend.publishReservations(made.signer) { try await feed.publish($0) }
        print("booking-sim: \(backend.count) reservations in the feed (\(summary)), head \(feed.headSeq)")
        // Standard input is read on a thread of its own: a blocking read must not hold one of the
        // cooperative threads the replay answers run on.
        let (lines, input) = AsyncStream<String>.makeStream()
        Thread {
            while let line = readLine() { input.yield(line) }
            input.finish()
        }.start()
        let commands = Task {
            for await line in lines {
                let words = line.split(separator: " ").map(String.init)
                if words.count == 3, words[0] == "cancel", Identifier.isValid(words[1]), let version = Int64(words[2]) {
                    print("seq \(try await feed.publish(.cancel(reservationID: words[1], version: version)))")
                } else if words.count == 2, words[0] == "revoke", Identifier.isValid(words[1]) {
                    print("seq \(try await feed.publish(.revoke(jti: words[1])))")
                } else {
                    print("booking-sim: say `cancel <id> <version>` or `revoke <jti>`")
                }
            }
        }
        for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) { break }
        commands.cancel()
        await feed.stop()
    }
}

/// What every mode shares: the broker, the site, the keys, and the reservations to publish.
struct BackendOptions: ParsableArguments {
    @OptionGroup var connection: BrokerOptions
    @Option(help: "Site id.") var site: String
    @Option(help: "Topic prefix.") var prefix = "access"
    @Option(name: .customLong("pin-key-file"), help: "The pinKey shared with the gateway (64 hex digits).")
    var pinKeyFile: String
    @Option(name: .customLong("issuer-key-file"), help: "This backend's Ed25519 private key (64 hex digits).")
    var issuerKeyFile: String
    @Flag(help: "Create the issuer key file if it does not exist.") var createIssuerKey = false
    @Flag(help: "Print the gateway's issuers line and exit.") var printIssuer = false
    @Option(help: "Key id of the issuer key.") var kid = "sim-1"
    @Option(help: "Issuer (iss).") var issuer = "https://booking.sim"
    @Option(help: "Spaces, comma-separated.") var spaces = "room-1"
    @Option(help: "Reservations to create.") var count = 20
    @Option(help: "Hours from now over which reservations start (the first ones start now).") var periodH = 24.0
    @Option(help: "Percent of reservations cancelled.") var cancelPercent = 5
    @Option(help: "Percent of reservations rescheduled (a later version).") var reschedulePercent = 5
    @Option(help: "Seed.") var seed: UInt64 = 1
    @Option(help: "Write each holder's token and PIN as NDJSON here.") var holdersOut: String?

    func validate() throws {
        guard Identifier.isValid(site), Identifier.isValid(kid) else {
            throw ValidationError("--site and --kid must follow the identifier rule")
        }
        guard SimulatorOptions.devices(spaces, needsSpace: false) != nil else {
            throw ValidationError("--spaces must be spaceId[,spaceId...]")
        }
        guard count >= 0, periodH > 0 else { throw ValidationError("--count must be >= 0 and --period-h > 0") }
        guard (0...100).contains(cancelPercent), (0...100).contains(reschedulePercent) else {
            throw ValidationError("--cancel-percent and --reschedule-percent must be 0 to 100")
        }
    }

    /// Logging, the issuer key, the signer; nil when the work was only to print the issuer line.
    func prepare() throws -> (signer: BookingBackend, endpoint: BrokerEndpoint)? {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        if createIssuerKey, !FileManager.default.fileExists(atPath: issuerKeyFile) {
            let seed = Curve25519.Signing.PrivateKey().rawRepresentation.map { String(format: "%02x", $0) }.joined()
            guard
                FileManager.default.createFile(
                    atPath: issuerKeyFile, contents: Data((seed + "\n").utf8), attributes: [.posixPermissions: 0o600])
            else { throw ValidationError("--issuer-key-file \(issuerKeyFile): cannot create") }
        }
        let seedKey = try SimulatorOptions.key(file: issuerKeyFile)
        let privateKey = try seedKey.withUnsafeBytes { try Curve25519.Signing.PrivateKey(rawRepresentation: Array($0)) }
        let backend = BookingBackend(
            siteID: site, kid: kid, issuer: issuer, privateKey: privateKey,
            pinKey: try SimulatorOptions.key(file: pinKeyFile))
        if printIssuer {
            print(backend.issuerSetting)
            return nil
        }
        return (backend, try connection.endpoint())
    }

    /// Makes the reservations (some rescheduled, some cancelled), hands each message to `send`,
    /// writes the holders; returns a summary.
    func publishReservations(
        _ backend: BookingBackend, send: (BookingMessage) async throws -> Void
    ) async throws -> String {
        var random = SplitMix64(seed: seed)
        let spaceIDs = (SimulatorOptions.devices(spaces, needsSpace: false) ?? []).map(\.id)
        let now = Int64(Date().timeIntervalSince1970 * 1000) / 60_000 * 60_000
        var holders: [String] = []
        var cancelled = 0
        var rescheduled = 0
        for index in 0..<count {
            let offset = Int64(Double(index) / Double(max(1, count)) * periodH * 3_600_000) / 60_000 * 60_000
            var reservation = Reservation(
                id: "bk-\(seed)-\(index)", spaceID: spaceIDs[random.next(below: spaceIDs.count)],
                holder: "u-\(random.next(below: 1000))",
                startMs: now + offset, endMs: now + offset + Int64(30 + random.next(below: 150)) * 60_000, version: 1,
                graceBeforeS: 600, graceAfterS: 300)
            try await send(.upsert(reservation))
            if random.next(below: 100) < reschedulePercent {
                reservation.startMs += 3_600_000
                reservation.endMs += 3_600_000
                reservation.version = 2
                try await send(.upsert(reservation))
                rescheduled += 1
            }
            if random.next(below: 100) < cancelPercent {
                reservation.status = .cancelled
                reservation.version += 1
                try await send(.cancel(reservationID: reservation.id, version: reservation.version))
                cancelled += 1
            }
            holders.append(
                CanonicalJSON.object([
                    ("reservationId", .string(reservation.id)), ("holder", .string(reservation.holder)),
                    ("spaceId", .string(reservation.spaceID)),
                    ("start", .string(RFC3339.format(reservation.startMs))),
                    ("end", .string(RFC3339.format(reservation.endMs))),
                    ("status", .string(reservation.status.rawValue)),
                    ("token", .string(try backend.token(for: reservation, jti: "jt-\(seed)-\(index)"))),
                    ("pin", .string(backend.pin(for: reservation))),
                ]))
        }
        if let holdersOut {
            try (holders.joined(separator: "\n") + "\n").write(toFile: holdersOut, atomically: true, encoding: .utf8)
        }
        return "\(rescheduled) rescheduled, \(cancelled) cancelled"
    }
}
