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

/// The inventory file: YAML (JSON is YAML too), checked whole by `Site`.
func parseInventory(_ text: String, siteID: String) throws(SiteError) -> Site {
    guard let document = (try? Yams.load(yaml: text)) as? [String: Any] else {
        throw .unknownReference(from: "the file", to: "a mapping with spaces, locks and poles")
    }
    var spaces: [Space] = []
    for entry in document["spaces"] as? [Any] ?? [] {
        if let id = entry as? String {
            spaces.append(Space(id: id))
        } else if let map = entry as? [String: Any], let id = map["id"] as? String {
            spaces.append(Space(id: id, poleIDs: (map["poles"] as? [Any] ?? []).compactMap { $0 as? String }))
        } else {
            throw .invalidIdentifier(kind: "space", "\(entry)")
        }
    }
    var locks: [Lock] = []
    for entry in document["locks"] as? [Any] ?? [] {
        guard let map = entry as? [String: Any], let id = map["id"] as? String, let space = map["space"] as? String
        else {
            throw .invalidIdentifier(kind: "lock", "\(entry) (needs id and space)")
        }
        locks.append(Lock(id: id, spaceID: space))
    }
    let poles = (document["poles"] as? [Any] ?? []).map { Pole(id: ($0 as? String) ?? "\($0)") }
    guard !spaces.isEmpty else { throw .unknownReference(from: "the file", to: "at least one space") }
    return try Site(id: siteID, spaces: spaces, locks: locks, poles: poles)
}
