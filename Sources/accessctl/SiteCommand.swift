import AccessConfiguration
import AccessCore
import AccessProtocol
import AccessStore
import ArgumentParser
import Foundation
import Yams

struct SiteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "site", abstract: "The site inventory: spaces, locks, poles and their links.",
        subcommands: [Import.self, Show.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import or update the inventory from a YAML or JSON file.",
            discussion: """
                The file lists spaces (each with the poles that light its entrance), locks (each the door of
                one space) and poles:
                  spaces: [{id: room-1, poles: [pole-1]}, {id: room-2}]
                  locks: [{id: lock-1, space: room-1}, {id: lock-2, space: room-2}]
                  poles: [pole-1]
                Everything is checked before anything is written; the stored inventory is replaced whole.
                A gateway whose configuration lists no inventory uses this one (on start or SIGHUP).
                """)
        @OptionGroup var store: StoreOptions
        @Argument(help: "The inventory file (YAML or JSON).") var file: String

        @Flag(
            help: "Replace an existing, different inventory (without it the changes are shown and nothing is written).")
        var yes = false

        func run() async throws {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ValidationError("\(file): cannot read")
            }
            let site: Site
            do {
                site = try parseInventory(text, siteID: try await store.resolve().siteID)
            } catch {
                throw Failure("\(file): \(error)")
            }
            // The first step on a new site: the store may not exist yet.
            let store = try await self.store.open(create: true)
            let stored = try store.loadSite()
            let changes = inventoryChanges(from: stored, to: site)
            guard !changes.isEmpty else {
                print("site \(site.id): the inventory is unchanged")
                return
            }
            for line in changes { print(line) }
            if let stored, !stored.spaces.isEmpty, !yes {
                throw Failure("not imported: run again with --yes to replace the inventory with these changes")
            }
            try store.saveSite(site)
            print(
                "site \(site.id): \(site.spaces.count) spaces, \(site.locks.count) locks, \(site.poles.count) poles imported"
            )
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the stored inventory.")
        @OptionGroup var store: StoreOptions
        @Flag(help: "One JSON object.") var json = false

        func run() async throws {
            guard let site = try await store.open().loadSite() else { throw Failure("the store has no inventory yet") }
            let spaces = site.spaces.values.sorted { $0.id < $1.id }
            let locks = site.locks.values.sorted { $0.id < $1.id }
            if json {
                print(
                    Output.json([
                        ("site", .string(site.id)),
                        ("spaces", .object(spaces.map { ($0.id, .string($0.poleIDs.joined(separator: ","))) })),
                        ("locks", .object(locks.map { ($0.id, .string($0.spaceID)) })),
                        (
                            "profiles",
                            .object(
                                locks.filter { $0.profile != .contract }.map { ($0.id, .string(profileText($0))) })
                        ),
                        ("poles", .string(site.poles.keys.sorted().joined(separator: ","))),
                    ]))
            } else {
                Output.table(
                    ["SPACE", "LOCKS", "POLES"],
                    spaces.map { space in
                        [
                            space.id, locks.filter { $0.spaceID == space.id }.map(\.id).joined(separator: ","),
                            space.poleIDs.joined(separator: ","),
                        ]
                    })
            }
        }
    }
}

/// The inventory file: YAML (JSON is YAML too), read strictly (an unknown key or a YAML error is
/// named with its line and column), then checked whole by `Site`.
func parseInventory(_ text: String, siteID: String) throws -> Site {
    let root: Node
    do {
        guard let node = try Yams.compose(yaml: text) else { throw InventoryError("the file is empty") }
        root = node
    } catch let error as YamlError {
        throw InventoryError("\(error)")
    }
    func at(_ node: Node) -> String {
        let mark: Mark? =
            switch node {
            case .scalar(let scalar): scalar.mark
            case .mapping(let mapping): mapping.mark
            case .sequence(let sequence): sequence.mark
            case .alias(let alias): alias.mark
            }
        return mark.map { "line \($0.line), column \($0.column)" } ?? "?"
    }
    func mapping(_ node: Node, allowed: [String], what: String) throws -> [String: Node] {
        guard case .mapping(let mapping) = node else { throw InventoryError("\(at(node)): \(what) must be a mapping") }
        var fields: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.string, allowed.contains(name) else {
                throw InventoryError(
                    "\(at(key)): unknown key \"\(key.string ?? "?")\" in \(what) (known: \(allowed.joined(separator: ", ")))"
                )
            }
            fields[name] = value
        }
        return fields
    }
    func list(_ node: Node?, what: String) throws -> [Node] {
        guard let node else { return [] }
        guard case .sequence(let sequence) = node else { throw InventoryError("\(at(node)): \(what) must be a list") }
        return Array(sequence)
    }
    func string(_ node: Node?, what: String, in parent: Node) throws -> String {
        guard let node else { throw InventoryError("\(at(parent)): \(what) is missing") }
        guard case .scalar(let scalar) = node else { throw InventoryError("\(at(node)): \(what) must be a string") }
        return scalar.string
    }

    let document = try mapping(root, allowed: ["spaces", "locks", "poles"], what: "the inventory")
    var spaces: [Space] = []
    for entry in try list(document["spaces"], what: "spaces") {
        if case .scalar(let scalar) = entry {
            spaces.append(Space(id: scalar.string))
            continue
        }
        let fields = try mapping(entry, allowed: ["id", "poles"], what: "a space")
        let poles = try list(fields["poles"], what: "a space's poles").map {
            try string($0, what: "a pole id", in: entry)
        }
        spaces.append(Space(id: try string(fields["id"], what: "a space's id", in: entry), poleIDs: poles))
    }
    var locks: [Lock] = []
    for entry in try list(document["locks"], what: "locks") {
        let fields = try mapping(entry, allowed: ["id", "space", "profile", "device", "slots"], what: "a lock")
        var lock = Lock(
            id: try string(fields["id"], what: "a lock's id", in: entry),
            spaceID: try string(fields["space"], what: "a lock's space", in: entry))
        if let node = fields["profile"] {
            let name = try string(node, what: "a lock's profile", in: entry)
            guard let profile = DeviceProfile(rawValue: name) else {
                let known = DeviceProfile.allCases.map(\.rawValue).joined(separator: ", ")
                throw InventoryError("\(at(node)): profile \"\(name)\" is not one of \(known)")
            }
            lock.profile = profile
        }
        if let node = fields["device"] { lock.device = try string(node, what: "a lock's device", in: entry) }
        if let node = fields["slots"] {
            guard let slots = LockEntry.slotRange(try string(node, what: "a lock's slots", in: entry)) else {
                throw InventoryError("\(at(node)): slots must be FIRST-LAST, e.g. 10-29")
            }
            lock.pinSlots = slots
        }
        locks.append(lock)
    }
    let poles = try list(document["poles"], what: "poles").map { Pole(id: try string($0, what: "a pole id", in: root)) }
    guard !spaces.isEmpty else { throw InventoryError("the file lists no spaces") }
    return try Site(id: siteID, spaces: spaces, locks: locks, poles: poles)
}

struct InventoryError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// What replacing `old` with `new` changes, a line per device or space ("+ lock lock-3 in room-2").
func inventoryChanges(from old: Site?, to new: Site) -> [String] {
    var lines: [String] = []
    let oldSpaces = old?.spaces.byID ?? [:]
    let oldLocks = old?.locks.byID ?? [:]
    let oldPoles = old?.poles ?? [:]
    for id in Set(oldSpaces.keys).union(new.spaces.keys).sorted() {
        switch (oldSpaces[id], new.spaces[id]) {
        case (nil, let added?):
            lines.append(
                "+ space \(id)" + (added.poleIDs.isEmpty ? "" : " lit by \(added.poleIDs.joined(separator: ","))"))
        case (_?, nil): lines.append("- space \(id)")
        case (let before?, let after?) where before.poleIDs != after.poleIDs:
            lines.append(
                "~ space \(id) lit by \(after.poleIDs.joined(separator: ",")) (was \(before.poleIDs.joined(separator: ",")))"
            )
        default: break
        }
    }
    for id in Set(oldLocks.keys).union(new.locks.keys).sorted() {
        switch (oldLocks[id], new.locks[id]) {
        case (nil, let added?):
            lines.append(
                "+ lock \(id) in \(added.spaceID)" + (added.profile == .contract ? "" : " \(profileText(added))"))
        case (let removed?, nil): lines.append("- lock \(id) (was in \(removed.spaceID))")
        case (let before?, let after?) where before.spaceID != after.spaceID:
            lines.append("~ lock \(id) in \(after.spaceID) (was \(before.spaceID))")
        case (let before?, let after?) where before != after:
            lines.append("~ lock \(id) \(profileText(after)) (was \(profileText(before)))")
        default: break
        }
    }
    for id in Set(oldPoles.keys).union(new.poles.keys).sorted() {
        switch (oldPoles[id], new.poles[id]) {
        case (nil, _?): lines.append("+ pole \(id)")
        case (_?, nil): lines.append("- pole \(id)")
        default: break
        }
    }
    return lines
}

/// `profile zigbee2mqtt device gym_door slots 10-29`.
func profileText(_ lock: Lock) -> String {
    var text = "profile \(lock.profile.rawValue)"
    if let device = lock.device { text += " device \(device)" }
    if let slots = lock.pinSlots { text += " slots \(slots.lowerBound)-\(slots.upperBound)" }
    return text
}
