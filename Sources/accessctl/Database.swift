import AccessConfiguration
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
        abstract: "Locks and poles: their state, and adding or removing one in the stored inventory.",
        subcommands: [List.self, Add.self, Remove.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Locks and poles: online, battery, last seen, door and lock state, open alarms.")
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
                            $0.kind, $0.id, $0.online.map { $0 ? "yes" : "no" } ?? "?",
                            $0.battery.map { "\($0) %" } ?? "-",
                            $0.doorState ?? "-", $0.lockState ?? "-", Output.time($0.lastSeenMs),
                            $0.openAlarms.isEmpty ? "-" : $0.openAlarms.sorted().joined(separator: ","),
                        ]
                    })
            }
        }
    }
}

extension Devices {
    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case lock, pole
    }

    /// The stored inventory, when it is the one the gateway uses (not one listed in its configuration).
    static func storedSite(_ options: StoreOptions) async throws -> (AccessStore, Site) {
        let resolved = try await options.resolve()
        if let configuration = resolved.configuration, !configuration.inventoryFromStore {
            throw Failure(
                "the configuration lists the inventory (site.spaces, site.locks, site.poles): change it there")
        }
        let store = try await options.open()
        guard let site = try store.loadSite() else {
            throw Failure("the store has no inventory yet: `accessctl site import FILE` first")
        }
        return (store, site)
    }

    /// Checks the edited inventory whole (`Site`), prints what changes and saves it.
    static func save(
        spaces: [String: Space], locks: [String: Lock], poles: [String: Pole], replacing old: Site,
        in store: AccessStore
    ) throws {
        let site: Site
        do {
            site = try Site(
                id: old.id, spaces: Array(spaces.values), locks: Array(locks.values), poles: Array(poles.values))
        } catch {
            throw Failure("\(error)")
        }
        for line in inventoryChanges(from: old, to: site) { print(line) }
        try store.saveSite(site)
        print("saved; a running gateway takes it on SIGHUP (systemctl reload access-gateway)")
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add one lock (the door of a space) or one pole (lighting spaces) to the stored inventory.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "lock or pole.") var kind: Kind
        @Argument(help: "Its id.") var id: String
        @Option(name: .customLong("space"), help: "A lock's space (required), or the spaces a pole lights (repeat).")
        var spaces: [String] = []
        @Option(
            help: "A lock's hardware (docs/devices.md): contract, esphome-wiegand, tasmota-wiegand, zigbee2mqtt, nuki.")
        var profile = "contract"
        @Option(help: "A profile lock's device name in its dialect.") var device: String?
        @Option(help: "A Zigbee lock's PIN slots the gateway fills ahead of each reservation, FIRST-LAST.")
        var slots: String?

        func validate() throws {
            guard DeviceProfile(rawValue: profile) != nil else {
                throw ValidationError(
                    "--profile must be one of \(DeviceProfile.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if kind == .pole, profile != "contract" || device != nil || slots != nil {
                throw ValidationError("--profile, --device and --slots are a lock's")
            }
            if let slots, LockEntry.slotRange(slots) == nil {
                throw ValidationError("--slots must be FIRST-LAST, e.g. 10-29")
            }
            for value in [id] + spaces where !Identifier.isValid(value) {
                throw ValidationError("\"\(value)\" breaks the identifier rule [A-Za-z0-9][A-Za-z0-9._-]{0,63}")
            }
            if kind == .lock, spaces.count != 1 { throw ValidationError("a lock needs exactly one --space") }
        }

        func run() async throws {
            let (store, site) = try await Devices.storedSite(self.store)
            var spaces = site.spaces.byID
            var locks = site.locks.byID
            var poles = site.poles
            switch kind {
            case .lock:
                guard locks[id] == nil else { throw Failure("lock \(id) is already in the inventory") }
                locks[id] = Lock(
                    id: id, spaceID: self.spaces[0], profile: DeviceProfile(rawValue: profile) ?? .contract,
                    device: device, pinSlots: slots.flatMap(LockEntry.slotRange))
            case .pole:
                guard poles[id] == nil else { throw Failure("pole \(id) is already in the inventory") }
                poles[id] = Pole(id: id)
                for spaceID in self.spaces {
                    guard var space = spaces[spaceID] else { throw Failure("no space \(spaceID) in the inventory") }
                    space.poleIDs.append(id)
                    spaces[spaceID] = space
                }
            }
            try Devices.save(spaces: spaces, locks: locks, poles: poles, replacing: site, in: store)
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove one lock or pole from the stored inventory.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "lock or pole.") var kind: Kind
        @Argument(help: "Its id.") var id: String

        func run() async throws {
            let (store, site) = try await Devices.storedSite(self.store)
            var spaces = site.spaces.byID
            var locks = site.locks.byID
            var poles = site.poles
            switch kind {
            case .lock:
                guard locks.removeValue(forKey: id) != nil else { throw Failure("no lock \(id) in the inventory") }
            case .pole:
                guard poles.removeValue(forKey: id) != nil else { throw Failure("no pole \(id) in the inventory") }
                for (spaceID, var space) in spaces where space.poleIDs.contains(id) {
                    space.poleIDs.removeAll { $0 == id }
                    spaces[spaceID] = space
                }
            }
            try Devices.save(spaces: spaces, locks: locks, poles: poles, replacing: site, in: store)
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
