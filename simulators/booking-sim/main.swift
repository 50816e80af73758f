import AccessCore
import AccessProtocol
import ArgumentParser
import Crypto
import Foundation
import Logging
import MQTT
import Simulation

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
            """)

    @Option(help: "Broker host:port.") var broker = "127.0.0.1:1883"
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
        guard SimulatorOptions.broker(broker) != nil else { throw ValidationError("--broker must be host:port") }
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

    func run() async throws {
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
            return
        }
        let endpoint = SimulatorOptions.broker(broker) ?? ("127.0.0.1", 1883)
        let client = try MQTTClient(
            configuration: .init(host: endpoint.host, port: endpoint.port, clientID: "booking-sim-\(site)-\(seed)"),
            logger: Logger(label: "booking-sim"))
        try await client.connect()
        let topic = SiteTopics(prefix: prefix, siteID: site).bookings
        var random = SeededRandom(seed: seed)
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
            try await client.publishAcknowledged(
                MQTTMessage(topic: topic, payload: BookingMessage.upsert(reservation).payload))
            if random.next(below: 100) < reschedulePercent {
                reservation.startMs += 3_600_000
                reservation.endMs += 3_600_000
                reservation.version = 2
                try await client.publishAcknowledged(
                    MQTTMessage(topic: topic, payload: BookingMessage.upsert(reservation).payload))
                rescheduled += 1
            }
            if random.next(below: 100) < cancelPercent {
                reservation.status = .cancelled
                reservation.version += 1
                try await client.publishAcknowledged(
                    MQTTMessage(
                        topic: topic,
                        payload: BookingMessage.cancel(reservationID: reservation.id, version: reservation.version)
                            .payload))
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
        print(
            "booking-sim: \(count) reservations published on \(topic) (\(rescheduled) rescheduled, \(cancelled) cancelled)"
        )
        await client.shutdown()
    }
}
