import AccessCore
import AccessProtocol
import AccessSharedStore
import AccessStore
import ArgumentParser
import Foundation

/// Holders' cards for Wiegand readers (device profiles): a card opens a lock of a space while its
/// holder has a reservation of that space. Stored as a keyed digest only, never the number. With
/// `database.kind: postgres` the cards are the shared database's, which every gateway decides with.
struct Holders: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Holders' cards for Wiegand card readers.", subcommands: [Card.self])

    struct Card: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register, remove and list cards (kept as keyed digests, never in clear).",
            subcommands: [Add.self, Remove.self, List.self])
    }

    /// The card number from the argument, or from stdin for `-` (kept out of shell history).
    static func cardNumber(_ argument: String) throws -> String {
        var text = argument
        if argument == "-" { text = readLine(strippingNewline: true) ?? "" }
        guard let number = CardIndex.normalized(text.trimmingCharacters(in: .whitespaces)) else {
            throw ValidationError("the card number must be 1 to 20 decimal digits, not 0 (as the reader sends it)")
        }
        return number
    }

    static func index(_ store: StoreOptions) async throws -> CardIndex {
        let resolved = try await store.resolve()
        guard let file = resolved.siteKeyFile else {
            throw ValidationError("give --site-key-file, or --config naming keys.siteKeyFile")
        }
        return CardIndex(siteKey: try SecretKeyFile.load(path: file), siteID: resolved.siteID)
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a card to a holder (a card already registered moves to this holder).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The holder, as in their bookings.") var holder: String
        @Argument(help: "The card number in decimal as the reader sends it; - reads it from stdin.") var card: String
        @Option(help: "A label to tell the holder's cards apart (no number).") var label: String?

        func validate() throws {
            guard Identifier.isValid(holder) else { throw ValidationError("holder \"\(holder)\" is not an identifier") }
            if let label, label.isEmpty || label.count > 64 || label.contains(where: \.isNewline) {
                throw ValidationError("--label must be 1 to 64 characters on one line")
            }
        }

        func run() async throws {
            let number = try Holders.cardNumber(card)
            let digest = try await Holders.index(store).digest(card: number)
            let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
            let (holder, label) = (self.holder, self.label)
            let shared: Void? = try await SharedDatabase.with(store.resolve()) {
                try await $0.addCard(digest: digest, holder: holder, label: label, nowMs: nowMs)
            }
            if shared == nil {
                try await store.open().addCard(digest: digest, holder: holder, label: label, nowMs: nowMs)
            }
            print(
                "card \(AuditChain.hexString(digest.prefix(4))) registered to \(holder)"
                    + (shared == nil ? "" : " in the shared database"))
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a card: it opens nothing from now on.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The card number; - reads it from stdin.") var card: String

        func run() async throws {
            let number = try Holders.cardNumber(card)
            let digest = try await Holders.index(store).digest(card: number)
            let shared = try await SharedDatabase.with(store.resolve()) { try await $0.removeCard(digest: digest) }
            var removed = shared ?? false
            if shared == nil { removed = try await store.open().removeCard(digest: digest) }
            guard removed else {
                throw Failure("that card is not registered")
            }
            print("card removed")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Registered cards by holder: a short tag of each card's digest, never its number.")
        @OptionGroup var store: StoreOptions
        @Option(help: "Only this holder's cards.") var holder: String?
        @Flag(help: "One JSON object per line.") var json = false

        func run() async throws {
            let holder = self.holder
            var cards = try await SharedDatabase.with(store.resolve()) { try await $0.cards(holder: holder) }
            if cards == nil { cards = try await store.open().cards(holder: holder) }
            if json {
                for card in cards ?? [] {
                    print(
                        Output.json([
                            ("holder", .string(card.holder)), ("card", .string(card.tag)),
                            ("label", card.label.map(JSONValue.string)), ("added", .string(Output.time(card.addedMs))),
                        ]))
                }
            } else {
                Output.table(
                    ["HOLDER", "CARD", "LABEL", "ADDED"],
                    (cards ?? []).map { [$0.holder, $0.tag, $0.label ?? "", Output.time($0.addedMs)] })
            }
        }
    }
}
