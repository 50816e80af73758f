import AccessCore
import AccessProtocol
import Foundation

/// The booking backend's feed (contract v1.1), pure and durable: every message it publishes gets
/// the next `seq` and is appended to its own file (NDJSON, one `payload(seq:)` a line) before it
/// is published, so a restarted backend still replays. It keeps the last `keep` messages for
/// replay, and the current state (reservations, cancel tombstones, revocations) for a resync
/// when asked for a position older than it keeps.
public struct BookingFeedLog: Sendable {
    public private(set) var headSeq: Int64 = 0
    /// The replayable tail: (seq, message), oldest first.
    public private(set) var kept: [(seq: Int64, message: BookingMessage)] = []
    public let keep: Int
    private var reservations: [String: Reservation] = [:]
    private var tombstones: [String: Int64] = [:]
    private var revoked: Set<String> = []
    private let path: String?

    /// Opens (or creates) the feed file at `path`; nil keeps the feed in memory only.
    public init(path: String?, keep: Int = 100_000) throws {
        self.path = path
        self.keep = max(1, keep)
        guard let path, FileManager.default.fileExists(atPath: path) else { return }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        for line in text.split(separator: "\n") {
            guard case .success(let (message, seq)) = BookingMessage.parseFeed(Array(line.utf8), allowResync: false),
                let seq
            else { throw BookingFeedLogError("\(path): a line that is not a feed message: \(line.prefix(80))") }
            record(message, seq: seq)
        }
    }

    /// Gives `message` the next seq and makes it durable; returns the payload to publish.
    public mutating func append(_ message: BookingMessage) throws -> (seq: Int64, payload: String) {
        let seq = headSeq + 1
        let payload = message.payload(seq: seq)
        if let path {
            if !FileManager.default.fileExists(atPath: path) {
                // A file that cannot be made is reported by the open below.
                _ = FileManager.default.createFile(atPath: path, contents: nil)
            }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: Data((payload + "\n").utf8))
            try handle.synchronize()
        }
        record(message, seq: seq)
        return (seq, payload)
    }

    private mutating func record(_ message: BookingMessage, seq: Int64) {
        headSeq = max(headSeq, seq)
        kept.append((seq, message))
        if kept.count > keep { kept.removeFirst(kept.count - keep) }
        switch message {
        case .upsert(let reservation):
            if reservation.version > max(reservations[reservation.id]?.version ?? -1, tombstones[reservation.id] ?? -1)
            {
                reservations[reservation.id] = reservation
                tombstones[reservation.id] = nil
            }
        case .cancel(let id, let version):
            if var reservation = reservations[id] {
                if version > reservation.version {
                    reservation.status = .cancelled
                    reservation.version = version
                    reservations[id] = reservation
                }
            } else {
                tombstones[id] = max(tombstones[id] ?? -1, version)
            }
        case .revoke(let jti):
            revoked.insert(jti)
        case .resync:
            break
        }
    }

    /// What to send a gateway that asked for every message after `after`: the kept messages with
    /// their seq when the log reaches back that far; otherwise the current state without seq
    /// (reservations still current or ahead of `nowMs`, every tombstone, every revocation) and
    /// then `resync` at the head.
    public func answer(after: Int64, nowMs: Int64) -> [String] {
        let oldestKept = kept.first?.seq ?? (headSeq + 1)
        if after >= oldestKept - 1 {
            return kept.filter { $0.seq > after }.map { $0.message.payload(seq: $0.seq) }
        }
        var payloads: [String] = []
        for reservation in reservations.values.sorted(by: { $0.id < $1.id }) where reservation.windowEndMs >= nowMs {
            payloads.append(
                reservation.status == .cancelled
                    ? BookingMessage.cancel(reservationID: reservation.id, version: reservation.version).payload
                    : BookingMessage.upsert(reservation).payload)
        }
        for (id, version) in tombstones.sorted(by: { $0.key < $1.key }) {
            payloads.append(BookingMessage.cancel(reservationID: id, version: version).payload)
        }
        for jti in revoked.sorted() { payloads.append(BookingMessage.revoke(jti: jti).payload) }
        payloads.append(BookingMessage.resync(seq: headSeq).payload)
        return payloads
    }
}

public struct BookingFeedLogError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
