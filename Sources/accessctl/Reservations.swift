import AccessCore
import AccessStore
import ArgumentParser

#if canImport(Glibc)
    import Glibc
#endif

struct Reservations: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the reservations in the store.",
        subcommands: [Import.self]
    )

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply booking messages (upsert/cancel/revoke) from an NDJSON file.",
            discussion: """
                Each line is one booking message of the wire contract. Lines are applied in batched
                transactions, idempotently by version: importing the same file again changes nothing.
                A bad line is reported with its number and skipped; the rest still applies.
                Exit status: 0 when every line applied or was older, 1 when some lines were rejected.
                """
        )

        @OptionGroup var store: StoreOptions

        @Option(help: "Messages per transaction.")
        var batchSize: Int = 2000

        @Flag(help: "Print progress after each batch to stderr.")
        var progress = false

        @Argument(help: "The NDJSON file.")
        var file: String

        func validate() throws {
            guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        }

        func run() throws {
            let bytes: [UInt8]
            do {
                bytes = try readFile(file)
            } catch {
                throw ValidationError("\(file): \(error)")
            }
            let store = try self.store.open()
            let showProgress = progress
            let importer = BookingImport(batchSize: batchSize) { summary in
                if showProgress {
                    printError("imported \(summary.lines) lines (\(summary.applied) applied)")
                }
            }
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            let summary = try importer.run(
                ndjson: bytes, into: store, nowMs: Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000)
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
