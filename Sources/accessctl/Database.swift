import AccessCore
import AccessProtocol
import AccessStore
import ArgumentParser
import Foundation

struct DB: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Check, back up and describe the store.",
        subcommands: [Check.self, Backup.self, Stats.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "SQLite integrity check and audit chain check; exit 1 on a problem.")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let store = try await self.store.open()
            let problems = try store.integrityProblems()
            for problem in problems { printError("integrity: \(problem)") }
            let chain = try AuditLog.verify(store.pool)
            if let broken = chain.firstBreak { printError("audit chain broken: \(broken)") }
            guard problems.isEmpty, chain.isIntact else { throw ExitCode(1) }
            print("ok: integrity check passed, audit chain intact (\(chain.verifiedRecords) records)")
        }
    }

    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Online backup to a new file, consistent while the gateway runs.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Where to write the backup (must not exist).") var path: String

        func run() async throws {
            guard !FileManager.default.fileExists(atPath: path) else {
                throw ValidationError("\(path) exists; choose a new file")
            }
            let store = try await self.store.open()
            try store.backup(to: path)
            let copy = try AccessStore(configuration: StoreConfiguration(path: path), pinIndex: store.pinIndex)
            let chain = try AuditLog.verify(copy.pool)
            guard try copy.integrityProblems().isEmpty, chain.isIntact else {
                throw Failure("the backup at \(path) does not verify")
            }
            print("backup written to \(path): \(chain.verifiedRecords) audit records, chain intact")
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Row counts and file size.")
        @OptionGroup var store: StoreOptions
        @Flag(help: "One JSON object.") var json = false

        func run() async throws {
            let rows = try await store.open().statistics()
            if json {
                print(Output.json(rows.map { ($0.0, Int64($0.1).map(JSONValue.integer) ?? .string($0.1)) }))
            } else {
                Output.table(["WHAT", "VALUE"], rows.map { [$0.0, $0.1] })
            }
        }
    }
}

struct Devices: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Locks and poles: online, battery, last seen, door and lock state.")
    @OptionGroup var store: StoreOptions
    @Flag(help: "One JSON object per line.") var json = false

    func run() async throws {
        let states = try await store.open().deviceStates()
        if json {
            for s in states {
                print(
                    Output.json([
                        ("kind", .string(s.kind)), ("id", .string(s.id)), ("online", s.online.map(JSONValue.bool)),
                        ("battery", s.battery.map { .integer(Int64($0)) }),
                        ("firmware", s.firmware.map(JSONValue.string)),
                        ("doorState", s.doorState.map(JSONValue.string)),
                        ("lockState", s.lockState.map(JSONValue.string)),
                        ("lastSeen", .string(Output.time(s.lastSeenMs))),
                        ("openAlarms", .array(s.openAlarms.sorted().map(JSONValue.string))),
                    ]))
            }
        } else {
            Output.table(
                ["KIND", "ID", "ONLINE", "BATTERY", "DOOR", "LOCK", "LAST SEEN", "OPEN ALARMS"],
                states.map {
                    [
                        $0.kind, $0.id, $0.online.map { $0 ? "yes" : "no" } ?? "?", $0.battery.map { "\($0) %" } ?? "-",
                        $0.doorState ?? "-", $0.lockState ?? "-", Output.time($0.lastSeenMs),
                        $0.openAlarms.isEmpty ? "-" : $0.openAlarms.sorted().joined(separator: ","),
                    ]
                })
        }
    }
}

struct Pins: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Keypad PINs, for support calls.", subcommands: [Show.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Derive a reservation's PIN (as the booking backend does).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The reservation id.") var id: String

        func run() async throws {
            guard Identifier.isValid(id) else { throw ValidationError("\"\(id)\" is not a reservation id") }
            let store = try await self.store.open()
            guard let reservation = try store.reservation(id: id) else {
                throw Failure("no reservation \(id) in the store")
            }
            let pins = store.pinIndex.pins
            print(
                pins.pin(
                    spaceID: reservation.spaceID, reservationID: reservation.id, startUnixS: reservation.startUnixS,
                    endUnixS: reservation.endUnixS))
        }
    }
}
