import AccessConfiguration
import AccessCore
import AccessProtocol
import AccessSharedStore
import AccessStore
import ArgumentParser
import Foundation
import Logging
import MQTT

/// `accessctl bookings status`: where the gateway's store is in the booking feed (contract v1.1).
struct Bookings: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The booking feed: what the store has applied, against the backend's head.",
        subcommands: [Status.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "appliedSeq, the backend's head, the lag and the age of the last booking message.",
            discussion: """
                appliedSeq is read from the store (every booking message up to it is applied). The head is
                the backend's retained R/bookings/head, read from the broker of the gateway's configuration
                (skipped with --head-timeout 0). With database.kind: postgres the shared database's
                appliedSeq (what every gateway decides with) is shown beside the local store's. A bulk
                `reservations import` applies by the same version rule but is not part of the feed: it moves
                no appliedSeq, and the feed still replays what it lacks.
                """)
        @OptionGroup var store: StoreOptions
        @Option(help: "Seconds to wait for the broker's retained head; 0 reads the store only.")
        var headTimeout = 3.0
        @Flag(help: "One JSON object.") var json = false

        func validate() throws {
            guard (0...60).contains(headTimeout) else { throw ValidationError("--head-timeout must be 0...60 s") }
        }

        func run() async throws {
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = .error
                return handler
            }
            let resolved = try await store.resolve()
            let position = try await store.open().bookingFeedPosition()
            let sharedSeq = try await SharedDatabase.with(resolved, timeout: .seconds(10)) { try await $0.appliedSeq() }
            var head: BookingFeedMessages.Head?
            if headTimeout > 0, let configuration = resolved.configuration {
                head = try await Self.readHead(configuration, timeout: headTimeout)
            }
            let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
            let lag = head.map { max(0, $0.seq - position.appliedSeq) }
            let ageS = position.lastMessageMs.map { max(0, nowMs - $0) / 1000 }
            if json {
                print(
                    Output.json([
                        ("appliedSeq", .integer(position.appliedSeq)),
                        ("highestSeq", .integer(position.highestSeq)),
                        ("sharedAppliedSeq", sharedSeq.map(JSONValue.integer)),
                        ("headSeq", head.map { .integer($0.seq) }),
                        ("lagMessages", lag.map(JSONValue.integer)),
                        ("lastMessage", position.lastMessageMs.map { .string(Output.time($0)) }),
                        ("lastMessageAgeS", ageS.map(JSONValue.integer)),
                    ]))
                return
            }
            print("applied seq:   \(position.appliedSeq)")
            if let sharedSeq { print("shared db seq: \(sharedSeq) (what the gateways decide with)") }
            if position.highestSeq > position.appliedSeq {
                print("applied ahead: up to \(position.highestSeq) (a gap is open)")
            }
            print("backend head:  \(head.map { "\($0.seq) (published \(Output.time($0.timestampMs)))" } ?? "unknown")")
            print("lag:           \(lag.map { "\($0) messages" } ?? "unknown")")
            print(
                "last message:  \(position.lastMessageMs.map { "\(Output.time($0)), \(ageS ?? 0) s ago" } ?? "none yet")"
            )
        }

        /// The retained head, through a short clean connection of accessctl's own.
        static func readHead(_ configuration: GatewayConfiguration, timeout: Double) async throws
            -> BookingFeedMessages.Head?
        {
            var connection = try configuration.mqttConfiguration(for: .devices)
            connection.clientID = Identifier.random(prefix: "accessctl-")
            connection.will = nil
            let client = try MQTTClient(configuration: connection)
            do {
                try await client.connect()
            } catch {
                throw Failure("cannot reach the broker at \(connection.host):\(connection.port): \(error)")
            }
            let topic = SiteTopics(prefix: configuration.topicPrefix, siteID: configuration.site.id).bookingsHead
            let messages = client.messages
            let reader = Task { () -> BookingFeedMessages.Head? in
                for await message in messages where message.topic == topic {
                    return BookingFeedMessages.Head.parse(message.payload)
                }
                return nil
            }
            try await client.subscribe(topic)
            let timer = Task {
                try? await Task.sleep(for: .milliseconds(Int64(timeout * 1000)))
                reader.cancel()
                await client.shutdown()
            }
            let head = await reader.value
            timer.cancel()
            await client.shutdown()
            return head
        }
    }
}
