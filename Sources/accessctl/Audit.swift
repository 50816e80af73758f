import AccessCore
import AccessProtocol
import AccessSharedStore
import AccessStore
import ArgumentParser
import Foundation

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read and verify the audit log.", subcommands: [Verify.self, Query.self, Tail.self, Export.self])

    struct Filters: ParsableArguments {
        @Option(help: "Only this lock.") var lock: String?
        @Option(help: "Only this reservation.") var reservation: String?
        @Option(help: "Only this holder.") var holder: String?
        @Option(help: "From this instant (RFC 3339 or now).") var from: String?
        @Option(help: "Up to this instant (RFC 3339 or now).") var to: String?
        @Option(help: "granted or denied.") var outcome: String?
        @Option(help: "With database.kind: postgres, this gateway's chain (default: the configuration's gateway.id).")
        var gateway: String?

        func validate() throws {
            if let outcome, outcome != "granted", outcome != "denied" {
                throw ValidationError("--outcome must be granted or denied")
            }
        }

        func filter() throws -> SharedStore.AuditFilter {
            SharedStore.AuditFilter(
                lockID: lock, reservationID: reservation, holder: holder,
                fromMs: try from.map { try parseInstant($0, option: "--from") },
                toMs: try to.map { try parseInstant($0, option: "--to") }, granted: outcome.map { $0 == "granted" })
        }
    }

    /// Where audit records are read: the gateway's local store, or one gateway's chain in the
    /// shared database (`database.kind: postgres`), where a shared gateway writes its records.
    enum Source: Sendable {
        case local(AccessStore)
        case shared(SharedStore, gatewayID: String)

        func records(
            _ filter: SharedStore.AuditFilter = SharedStore.AuditFilter(), afterSeq: Int64 = 0, limit: Int,
            newest: Bool = false
        ) async throws -> [CommittedAuditRecord] {
            switch self {
            case .local(let store):
                try store.auditRecords(
                    lockID: filter.lockID, reservationID: filter.reservationID, holder: filter.holder,
                    fromMs: filter.fromMs, toMs: filter.toMs, granted: filter.granted, afterSeq: afterSeq,
                    limit: limit, newest: newest)
            case .shared(let store, let gatewayID):
                try await store.auditRecords(
                    gatewayID: gatewayID, filter: filter, afterSeq: afterSeq, limit: limit, newest: newest)
            }
        }

        static func run(
            _ options: StoreOptions, gateway: String?, timeout: Duration = .seconds(300),
            _ body: @escaping @Sendable (Source) async throws -> Void
        ) async throws {
            let resolved = try await options.resolve()
            let gatewayID = gateway ?? resolved.configuration?.gatewayID ?? ""
            let shared: Void? = try await SharedDatabase.with(resolved, timeout: timeout) {
                try await body(.shared($0, gatewayID: gatewayID))
            }
            if shared == nil { try await body(.local(options.open())) }
        }
    }

    static func printRecords(_ records: [CommittedAuditRecord], json: Bool) {
        if json {
            for record in records { print(Output.auditJSON(record)) }
            return
        }
        Output.table(
            ["SEQ", "TIME", "LOCK", "REQUEST", "CREDENTIAL", "RESERVATION", "HOLDER", "REASON", "COMMAND", "NOTE"],
            records.map {
                let r = $0.record
                return [
                    String(r.seq), Output.time(r.timestampMs), r.lockID, r.requestID ?? "-", r.credentialType ?? "-",
                    r.reservationID ?? "-", r.holder ?? r.operatorName.map { "operator:\($0)" } ?? "-",
                    r.count.map { "\(r.reason.rawValue) ×\($0)" } ?? r.reason.rawValue, r.commandID ?? "-",
                    r.note ?? "-",
                ]
            })
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-walk the hash chain; exit 1 and name the first bad record.",
            discussion: """
                With --head SEQ:HASH (the gateway's published audit head) a chain cut short is caught too.
                With database.kind: postgres every gateway's chain in the shared database is walked up to
                its head row (or only --gateway's).
                """)
        @OptionGroup var store: StoreOptions
        @Option(help: "The published head, seq:hash.") var head: String?
        @Option(help: "With database.kind: postgres, only this gateway's chain.") var gateway: String?

        func run() async throws {
            var expected: AuditLog.AuditHead?
            if let head {
                let parts = head.split(separator: ":")
                guard parts.count == 2, let seq = Int64(parts[0]), seq >= 1, parts[1].count == 64 else {
                    throw ValidationError("--head must be seq:hash (seq from 1, 64 hex digits)")
                }
                expected = AuditLog.AuditHead(seq: seq, hash: String(parts[1]), timestampMs: 0)
            }
            let resolved = try await store.resolve()
            let (gateway, published) = (
                self.gateway ?? (head == nil ? nil : resolved.configuration?.gatewayID), expected
            )
            if let intact = try await SharedDatabase.with(
                resolved, timeout: .seconds(3600),
                { shared in
                    try await Self.verifyShared(shared, gateway: gateway, published: published)
                })
            {
                guard intact else { throw ExitCode(1) }
                return
            }
            let verification = try await AuditLog.verify(store.open().pool, expectedHead: expected)
            if let broken = verification.firstBreak {
                printError("audit chain broken: \(broken) (\(verification.verifiedRecords) records verified before it)")
                throw ExitCode(1)
            }
            print(
                "audit chain intact: \(verification.verifiedRecords) records, head \(verification.head.map { "\($0.seq):\($0.hash)" } ?? "none")"
            )
        }

        /// Each gateway's chain in the shared database; false when any is broken.
        static func verifyShared(_ shared: SharedStore, gateway: String?, published: AuditLog.AuditHead?) async throws
            -> Bool
        {
            let heads = try await shared.auditHeads()
            let gateways = gateway.map { [$0] } ?? heads.map(\.gatewayID)
            if gateways.isEmpty { print("no audit chains in the shared database yet") }
            var intact = true
            for gatewayID in gateways {
                let (records, firstBreak) = try await shared.verifyChain(gatewayID: gatewayID)
                if let firstBreak {
                    printError(
                        "\(gatewayID): audit chain broken at \(firstBreak) (\(records) records verified before it)")
                    intact = false
                    continue
                }
                if let published {
                    let atHead = try await shared.auditRecords(
                        gatewayID: gatewayID, afterSeq: published.seq - 1, limit: 1)
                    guard let record = atHead.first, record.record.seq == published.seq, record.hash == published.hash
                    else {
                        printError("\(gatewayID): the published head \(published.seq) is not in the chain (cut short?)")
                        intact = false
                        continue
                    }
                }
                let head = heads.first { $0.gatewayID == gatewayID }
                print(
                    "\(gatewayID): audit chain intact: \(records) records, head \(head.map { "\($0.seq):\($0.hash)" } ?? "none")"
                )
            }
            return intact
        }
    }

    struct Query: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Audit records matching filters, oldest first.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var filters: Filters
        @Option(help: "At most this many.") var limit = 1000
        @Flag(help: "One JSON object per line.") var json = false

        func run() async throws {
            let (filter, limit, json) = (try filters.filter(), max(1, limit), json)
            try await Source.run(store, gateway: filters.gateway) { source in
                Audit.printRecords(try await source.records(filter, limit: limit), json: json)
            }
        }
    }

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The newest audit records; --follow keeps printing new ones.")
        @OptionGroup var store: StoreOptions
        @Option(name: [.customShort("n"), .customLong("lines")], help: "How many of the newest to print first.")
        var count = 10
        @Flag(help: "Keep printing new records as the gateway writes them (Ctrl-C stops).") var follow = false
        @Option(help: "With database.kind: postgres, this gateway's chain (default: the configuration's gateway.id).")
        var gateway: String?
        @Flag(help: "One JSON object per line.") var json = false

        func run() async throws {
            let (count, follow, json) = (max(1, count), follow, json)
            let timeout: Duration = follow ? .seconds(Int64(Int32.max)) : .seconds(60)
            try await Source.run(store, gateway: gateway, timeout: timeout) { source in
                var records = try await source.records(limit: count, newest: true)
                Audit.printRecords(records, json: json || follow)
                guard follow else { return }
                var last = records.last?.record.seq ?? 0
                while true {
                    try await Task.sleep(for: .milliseconds(250))
                    records = try await source.records(afterSeq: last, limit: 1000)
                    for record in records { print(Output.auditJSON(record)) }
                    if let newest = records.last?.record.seq { last = newest }
                    fflush(nil)
                }
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Export audit records as CSV or NDJSON.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var filters: Filters
        @Option(help: "csv or ndjson.") var format = "ndjson"

        func validate() throws {
            guard format == "csv" || format == "ndjson" else { throw ValidationError("--format must be csv or ndjson") }
        }

        func run() async throws {
            let (filter, csv) = (try filters.filter(), format == "csv")
            try await Source.run(store, gateway: filters.gateway, timeout: .seconds(3600)) { source in
                try await Self.export(source, filter, csv: csv)
            }
        }

        static func export(_ source: Source, _ filter: SharedStore.AuditFilter, csv: Bool) async throws {
            var after: Int64 = 0
            if csv {
                print(
                    "seq,ts,gatewayId,lockId,requestId,credentialType,reservationId,holder,jti,granted,reason,commandId,operator,note,count,hash"
                )
            }
            while true {
                let page = try await source.records(filter, afterSeq: after, limit: 5000)
                for item in page {
                    if !csv {
                        print(Output.auditJSON(item))
                    } else {
                        let r = item.record
                        print(
                            [
                                String(r.seq), String(r.timestampMs), r.gatewayID, r.lockID, r.requestID ?? "",
                                r.credentialType ?? "",
                                r.reservationID ?? "", r.holder ?? "", r.jti ?? "", r.granted ? "true" : "false",
                                r.reason.rawValue,
                                r.commandID ?? "", r.operatorName ?? "", r.note ?? "", r.count.map(String.init) ?? "",
                                item.hash,
                            ].map(Output.csv).joined(separator: ","))
                    }
                }
                guard let last = page.last?.seq, page.count == 5000 else { break }
                after = last
            }
        }
    }
}
