#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

extension BookingMessage {
    /// Parses and validates one message (one NDJSON line). Nothing partial comes out: either the
    /// whole message is valid or it is rejected with the reason.
    /// `defaults` fill in the grace minutes a message leaves out (the contract's default is 0).
    public static func parse(
        _ payload: some Collection<UInt8>, defaults: BookingDefaults = BookingDefaults()
    ) -> Result<BookingMessage, BookingMessageError> {
        parseFeed(payload, defaults: defaults, allowResync: false).map(\.message)
    }

    /// A message of the booking feed (v1.1) with its `seq`: nil for a v1 message without one. A
    /// `seq` that is not a positive integer rejects the message whole; `resync` is accepted only
    /// when `allowResync` (the gateway's own answer topic).
    public static func parseFeed(
        _ payload: some Collection<UInt8>, defaults: BookingDefaults = BookingDefaults(), allowResync: Bool
    ) -> Result<(message: BookingMessage, seq: Int64?), BookingMessageError> {
        guard payload.count <= maximumPayloadBytes else {
            return .failure(BookingMessageError("message over \(maximumPayloadBytes) bytes"))
        }
        guard String(validating: payload, as: UTF8.self) != nil else {
            return .failure(BookingMessageError("message is not UTF-8"))
        }
        let wire: Wire
        do {
            wire = try JSONDecoder().decode(Wire.self, from: Data(payload))
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.dataCorrupted(context) {
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return .failure(BookingMessageError(path.isEmpty ? "not a JSON object" : "\(path) has the wrong type"))
        } catch {
            return .failure(BookingMessageError("not a JSON object"))
        }
        guard wire.seqIsValid else { return .failure(BookingMessageError("seq is not a positive integer")) }
        if wire.op == "resync" {
            guard allowResync else { return .failure(BookingMessageError("resync outside the gateway's answer topic")) }
            guard let seq = wire.seq else { return .failure(BookingMessageError("resync without seq")) }
            return .success((.resync(seq: seq), seq))
        }
        return wire.validated(defaults: defaults).map { ($0, wire.seq) }
    }

    private struct Wire: Decodable {
        var op: String?
        var reservation: ReservationWire?
        var id: String?
        var version: Int64?
        var jti: String?
        var seq: Int64?
        var seqIsValid = true

        enum Keys: String, CodingKey {
            case op, reservation, id, version, jti, seq
        }

        init(from decoder: any Decoder) throws {
            let object = try decoder.container(keyedBy: Keys.self)
            op = try object.decodeIfPresent(String.self, forKey: .op)
            reservation = try object.decodeIfPresent(ReservationWire.self, forKey: .reservation)
            id = try object.decodeIfPresent(String.self, forKey: .id)
            version = try object.decodeIfPresent(Int64.self, forKey: .version)
            jti = try object.decodeIfPresent(String.self, forKey: .jti)
            if object.contains(.seq) {
                // Present, it must be a positive integer; anything else rejects the message whole.
                let value = try? object.decode(Int64.self, forKey: .seq)
                seq = value
                seqIsValid = (value ?? 0) > 0
            }
        }

        func validated(defaults: BookingDefaults) -> Result<BookingMessage, BookingMessageError> {
            switch op {
            case "upsert":
                guard let reservation else { return .failure(BookingMessageError("upsert without reservation")) }
                return reservation.validated(defaults: defaults).map(BookingMessage.upsert)
            case "cancel":
                guard let id, Identifier.isValid(id) else {
                    return .failure(BookingMessageError("cancel: id missing or not an identifier"))
                }
                guard let version, version >= 0 else {
                    return .failure(BookingMessageError("cancel: version missing or negative"))
                }
                return .success(.cancel(reservationID: id, version: version))
            case "revoke":
                guard let jti, Identifier.isValid(jti) else {
                    return .failure(BookingMessageError("revoke: jti missing or not an identifier"))
                }
                return .success(.revoke(jti: jti))
            case nil: return .failure(BookingMessageError("op missing"))
            case let other?: return .failure(BookingMessageError("unknown op \"\(other.prefix(32))\""))
            }
        }
    }

    private struct ReservationWire: Decodable {
        var id: String?
        var spaceId: String?
        var holder: String?
        var start: String?
        var end: String?
        var status: String?
        var version: Int64?
        var graceBeforeMin: Int64?
        var graceAfterMin: Int64?
        var singleUse: Bool?

        /// A week; longer grace is almost certainly a unit mistake in the backend.
        static let maximumGraceMin: Int64 = 7 * 24 * 60

        func validated(defaults: BookingDefaults) -> Result<Reservation, BookingMessageError> {
            func reject(_ problem: String) -> Result<Reservation, BookingMessageError> {
                .failure(BookingMessageError("upsert: \(problem)"))
            }
            for (name, value) in [("id", id), ("spaceId", spaceId), ("holder", holder)] {
                guard let value, Identifier.isValid(value) else {
                    return reject("\(name) missing or not an identifier")
                }
            }
            guard let id, let spaceId, let holder else { return reject("id, spaceId or holder missing") }
            guard let version, version >= 0 else { return reject("version missing or negative") }
            guard let start, let startMs = RFC3339.unixMilliseconds(start) else {
                return reject("start missing or not RFC 3339 with an offset")
            }
            guard let end, let endMs = RFC3339.unixMilliseconds(end) else {
                return reject("end missing or not RFC 3339 with an offset")
            }
            guard endMs > startMs else { return reject("end is not after start") }
            guard let statusText = status, let status = ReservationStatus(rawValue: statusText) else {
                return reject("status must be confirmed or cancelled")
            }
            let graceBefore = graceBeforeMin ?? defaults.graceBeforeMin
            let graceAfter = graceAfterMin ?? defaults.graceAfterMin
            guard (0...Self.maximumGraceMin).contains(graceBefore), (0...Self.maximumGraceMin).contains(graceAfter)
            else { return reject("grace minutes must be 0 to \(Self.maximumGraceMin)") }
            return .success(
                Reservation(
                    id: id, spaceID: spaceId, holder: holder, startMs: startMs, endMs: endMs, status: status,
                    version: version, graceBeforeS: graceBefore * 60, graceAfterS: graceAfter * 60,
                    singleUse: singleUse ?? false))
        }
    }
}
