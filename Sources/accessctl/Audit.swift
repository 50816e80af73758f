import AccessCore
import AccessProtocol
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

        func validate() throws {
            if let outcome, outcome != "granted", outcome != "denied" {
                throw ValidationError("--outcome must be granted or denied")
            }
        }

        func query(_ store: AccessStore, afterSeq: Int64 = 0, limit: Int, newest: Bool = false) throws
            -> [CommittedAuditRecord]
        {
            try store.auditRecords(
                lockID: lock, reservationID: reservation, holder: holder,
                fromMs: try from.map { try parseInstant($0, option: "--from") },
                toMs: try to.map { try parseInstant($0, option: "--to") },
                granted: outcome.map { $0 == "granted" }, afterSeq: afterSeq, limit: limit, newest: newest)
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
            discussion: "With --head SEQ:HASH (the gateway's published audit head) a chain cut short is caught too.")
        @OptionGroup var store: StoreOptions
        @Option(help: "The published head, seq:hash.") var head: String?

        func run() async throws {
            var expected: AuditLog.AuditHead?
            if let head {
                let parts = head.split(separator: ":")
                guard parts.count == 2, let seq = Int64(parts[0]), parts[1].count == 64 else {
                    throw ValidationError("--head must be seq:hash (64 hex digits)")
                }
                expected = AuditLog.AuditHead(seq: seq, hash: String(parts[1]), timestampMs: 0)
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
    }

    struct Query: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Audit records matching filters, oldest first.")
        @OptionGroup var store: StoreOptions
        @OptionGroup var filters: Filters
        @Option(help: "At most this many.") var limit = 1000
        @Flag(help: "One JSON object per line.") var json = false

        func run() async throws {
            Audit.printRecords(try await filters.query(store.open(), limit: max(1, limit)), json: json)
        }
    }

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The newest audit records; --follow keeps printing new ones.")
        @OptionGroup var store: StoreOptions
        @Option(name: [.customShort("n"), .customLong("lines")], help: "How many of the newest to print first.")
        var count = 10
        @Flag(help: "Keep printing new records as the gateway writes them (Ctrl-C stops).") var follow = false
        @Flag(help: "One JSON object per line.") var json = false

        func run() async throws {
            let store = try await self.store.open()
            var records = try store.auditRecords(limit: max(1, count), newest: true)
            Audit.printRecords(records, json: json || follow)
            guard follow else { return }
            var last = records.last?.seq ?? 0
            while true {
                usleep(250_000)
                records = try store.auditRecords(afterSeq: last, limit: 1000)
                for record in records { print(Output.auditJSON(record)) }
                if let newest = records.last?.seq { last = newest }
                fflush(nil)
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
            let store = try await self.store.open()
            var after: Int64 = 0
            if format == "csv" {
                print(
                    "seq,ts,gatewayId,lockId,requestId,credentialType,reservationId,holder,jti,granted,reason,commandId,operator,note,count,hash"
                )
            }
            while true {
                let page = try filters.query(store, afterSeq: after, limit: 5000)
                for item in page {
                    if format == "ndjson" {
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
