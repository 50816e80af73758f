#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// (v1.1) The booking feed's head (`R/bookings/head`, retained) and a gateway's replay request
/// (`R/bookings/replay`).
public enum BookingFeedMessages {
    public struct Head: Sendable, Hashable {
        public var seq: Int64
        public var timestampMs: Int64

        public init(seq: Int64, timestampMs: Int64) {
            self.seq = seq
            self.timestampMs = timestampMs
        }

        public var payload: String {
            CanonicalJSON.object([("seq", .integer(seq)), ("ts", .integer(timestampMs))])
        }

        /// Nil unless a small JSON object with a positive `seq` and an integer `ts`.
        public static func parse(_ payload: [UInt8]) -> Head? {
            guard payload.count <= 1024, let wire = try? JSONDecoder().decode(Wire.self, from: Data(payload)),
                wire.seq > 0
            else { return nil }
            return Head(seq: wire.seq, timestampMs: wire.ts)
        }

        private struct Wire: Decodable {
            var seq: Int64
            var ts: Int64
        }
    }

    public struct ReplayRequest: Sendable, Hashable {
        public var gatewayID: String
        public var after: Int64
        public var timestampMs: Int64

        public init(gatewayID: String, after: Int64, timestampMs: Int64) {
            self.gatewayID = gatewayID
            self.after = after
            self.timestampMs = timestampMs
        }

        public var payload: String {
            CanonicalJSON.object([
                ("gatewayId", .string(gatewayID)), ("after", .integer(after)), ("ts", .integer(timestampMs)),
            ])
        }

        /// Nil unless a valid gateway id and `after` ≥ 0.
        public static func parse(_ payload: [UInt8]) -> ReplayRequest? {
            guard payload.count <= 1024, let wire = try? JSONDecoder().decode(Wire.self, from: Data(payload)),
                Identifier.isValid(wire.gatewayId), wire.after >= 0
            else { return nil }
            return ReplayRequest(gatewayID: wire.gatewayId, after: wire.after, timestampMs: wire.ts ?? 0)
        }

        private struct Wire: Decodable {
            var gatewayId: String
            var after: Int64
            var ts: Int64?
        }
    }
}
