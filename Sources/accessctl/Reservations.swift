import AccessCore
import AccessProtocol
import AccessSharedStore
import AccessStore
import ArgumentParser
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

struct Reservations: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the reservations in the store.",
        subcommands: [Import.self, List.self, Show.self, Cancel.self, Revoke.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List reservations (by start time).")
        @OptionGroup var store: StoreOptions
        @Option(help: "Only this space.") var space: String?
        @Option(help: "Only this holder.") var holder: String?
        @Option(help: "Only those whose window (with grace) contains this instant (RFC 3339 or now).") var activeAt:
            String?
        @Option(help: "Only confirmed or cancelled.") var status: String?
        @Option(help: "At most this many.") var limit = 1000
        @Flag(help: "One JSON object per line.") var json = false

        func validate() throws {
            if let status, ReservationStatus(rawValue: status) == nil {
                throw ValidationError("--status must be confirmed or cancelled")
            }
            guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
        }

        func run() async throws {
            let store = try await self.store.open()
            let active = try activeAt.map { try parseInstant($0, option: "--active-at") }
            let list = try store.reservations(
                spaceID: space, holder: holder, activeAtMs: active, status: status.flatMap(ReservationStatus.init),
                limit: limit)
            if json {
                for r in list { print(Output.reservationJSON(r)) }
            } else {
                Output.table(
                    ["ID", "SPACE", "HOLDER", "START", "END", "STATUS", "VERSION", "SINGLE-USE"],
                    list.map {
                        [
                            $0.id, $0.spaceID, $0.holder, Output.time($0.startMs), Output.time($0.endMs),
                            $0.status.rawValue,
                            String($0.version), $0.singleUse ? ($0.spent ? "spent" : "yes") : "no",
                        ]
                    })
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one reservation as JSON.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The reservation id.") var id: String

        func run() async throws {
            guard Identifier.isValid(id) else { throw ValidationError("\"\(id)\" is not a reservation id") }
            let id = self.id
            // With a shared database, the reservation every gateway decides with.
            let shared = try await SharedDatabase.with(store.resolve()) { try await $0.reservation(id: id) }
            var found = shared ?? nil
            if shared == nil { found = try await store.open().reservation(id: id) }
            guard let reservation = found else { throw Failure("no reservation \(id) in the store") }
            print(Output.reservationJSON(reservation))
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancel a reservation now (a cancel one version above the stored one).",
            discussion: "The booking backend stays the source of truth: its next version of the reservation wins.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The reservation id.") var id: String

        func run() async throws {
            guard Identifier.isValid(id) else { throw ValidationError("\"\(id)\" is not a reservation id") }
            let resolved = try await self.store.resolve()
            let store = try await self.store.open()
            let (id, nowMs) = (self.id, Int64(Date().timeIntervalSince1970 * 1000))
            let local = try store.reservation(id: id)
            // With a shared database the cancel goes there first: every gateway decides with it.
            let shared: Int64? = try await SharedDatabase.with(resolved) { shared in
                let there = try await shared.reservation(id: id)
                let known = [local, there].compactMap { $0 }
                guard let newest = known.max(by: { $0.version < $1.version }) else {
                    throw Failure("no reservation \(id) in the shared database or the store")
                }
                guard known.contains(where: { $0.status == .confirmed }) else {
                    throw Failure("reservation \(id) is already cancelled")
                }
                let version = try Self.nextVersion(newest)
                let cancel = BookingMessage.cancel(reservationID: id, version: version)
                _ = try await shared.apply([cancel], nowMs: nowMs)
                _ = try store.apply(cancel, nowMs: nowMs)
                return version
            }
            if let shared {
                print("cancelled \(id) at version \(shared) in the shared database and the store")
                return
            }
            guard let reservation = local else { throw Failure("no reservation \(id) in the store") }
            guard reservation.status == .confirmed else { throw Failure("reservation \(id) is already cancelled") }
            let version = try Self.nextVersion(reservation)
            _ = try store.apply(.cancel(reservationID: id, version: version), nowMs: nowMs)
            print("cancelled \(id) at version \(version)")
        }

        /// The version a cancel takes: one above the stored one (a version at Int64.max has none).
        static func nextVersion(_ reservation: Reservation) throws -> Int64 {
            let (next, overflow) = reservation.version.addingReportingOverflow(1)
            guard !overflow else { throw Failure("reservation \(reservation.id) is at the highest version") }
            return next
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by its jti.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The token's jti.") var jti: String

        func run() async throws {
            guard Identifier.isValid(jti) else { throw ValidationError("\"\(jti)\" is not a jti (identifier rule)") }
            let (jti, nowMs) = (self.jti, Int64(Date().timeIntervalSince1970 * 1000))
            let shared = try await SharedDatabase.with(store.resolve()) {
                try await $0.apply([.revoke(jti: jti)], nowMs: nowMs).first
            }
            let outcome = try await store.open().apply(.revoke(jti: jti), nowMs: nowMs)
            let where_ = shared == nil ? "" : " in the shared database and the store"
            print((shared ?? outcome) == .applied ? "revoked \(jti)\(where_)" : "\(jti) was already revoked")
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply booking messages (upsert/cancel/revoke) from an NDJSON file.",
            discussion: """
                Each line is one booking message of the wire contract. Lines are applied in batched
                transactions, idempotently by version: importing the same file again changes nothing.
                The whole file is checked first: a bad line is reported with its number and, by default,
                nothing is imported; with --skip-bad-lines the bad lines are skipped and the rest applies.
                Exit status: 0 when every line applied or was older, 1 when any line was bad.
                """
        )

        @OptionGroup var store: StoreOptions

        @Option(help: "Messages per transaction.")
        var batchSize: Int = 2000

        @Flag(help: "Print progress after each batch to stderr.")
        var progress = false

        @Flag(help: "Apply the good lines even when some are bad (by default a file with a bad line changes nothing).")
        var skipBadLines = false

        @Argument(help: "The NDJSON file.")
        var file: String

        func validate() throws {
            guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        }

        func run() async throws {
            let bytes: [UInt8]
            do {
                bytes = try readFile(file)
            } catch {
                throw ValidationError("\(file): \(error)")
            }
            let resolved = try await self.store.resolve()
            let store = try await self.store.open()
            if !skipBadLines {
                let bad = BookingImport().validate(ndjson: bytes)
                if !bad.isEmpty {
                    for rejected in bad { printError("\(file):\(rejected.line): \(rejected.problem)") }
                    throw Failure(
                        "nothing imported: \(bad.count) bad lines in \(file); fix them or pass --skip-bad-lines")
                }
            }
            let showProgress = progress
            let importer = BookingImport(batchSize: batchSize) { summary in
                if showProgress {
                    printError("imported \(summary.lines) lines (\(summary.applied) applied)")
                }
            }
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            let nowMs = Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
            // With a shared database each batch goes there first (every gateway decides with it),
            // then to the local store; the summary is the shared database's.
            let shared = try await SharedDatabase.with(resolved, timeout: .seconds(24 * 3600)) { shared in
                try await importer.run(ndjson: bytes) { batch in
                    let outcomes = try await shared.apply(batch, nowMs: nowMs)
                    _ = try store.apply(batch, nowMs: nowMs)
                    return outcomes
                }
            }
            let summary = try shared ?? importer.run(ndjson: bytes, into: store, nowMs: nowMs)
            for rejected in summary.rejected {
                printError("\(file):\(rejected.line): \(rejected.problem)")
            }
            print(
                "lines \(summary.lines), applied \(summary.applied), ignored as older \(summary.ignoredAsOlder), "
                    + "unchanged \(summary.unchanged), rejected \(summary.rejected.count)")
            if !summary.rejected.isEmpty { throw ExitCode(1) }
        }
    }
}

struct FileReadError: Error, CustomStringConvertible {
    var description: String
}

func readFile(_ path: String) throws -> [UInt8] {
    guard let handle = fopen(path, "rb") else { throw FileReadError(description: String(cString: strerror(errno))) }
    defer { fclose(handle) }
    var output: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = fread(&buffer, 1, buffer.count, handle)
        if count > 0 { output.append(contentsOf: buffer.prefix(count)) }
        if count < buffer.count {
            if ferror(handle) != 0 { throw FileReadError(description: String(cString: strerror(errno))) }
            break
        }
    }
    return output
}
