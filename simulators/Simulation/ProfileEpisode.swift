import AccessCore
import AccessProtocol
import Crypto
import Foundation
import Logging
import MQTT
import MQTTTesting

/// The scenario's mixed site: one lock of each device profile in a space of its own (so the main
/// day's oracle is untouched), with bookings now, soon (within the PIN push horizon), later and
/// cancelled, cards registered to holders, and an oracle for each dialect: a granted code or card
/// pulses a board's relay and nothing else does, a grant unlocks the Zigbee lock and unlatches the
/// Nuki lock, and the Zigbee lock's pushed PINs open it with the gateway stopped, others do not.
struct ProfileEpisode {
    struct Door: Sendable {
        var lockID: String
        var space: String
        var profile: DeviceProfile
        var device: String
    }

    static let doors = [
        Door(lockID: "d-esp", space: "dialect-esp", profile: .esphomeWiegand, device: "esp-door"),
        Door(lockID: "d-tas", space: "dialect-tas", profile: .tasmotaWiegand, device: "tasmota-door"),
        Door(lockID: "d-zig", space: "dialect-zig", profile: .zigbee2mqtt, device: "zigbee-door"),
        Door(lockID: "d-nuki", space: "dialect-nuki", profile: .nuki, device: "4C0FFEE1"),
    ]

    let backend: BookingBackend
    let nowMs: Int64
    /// Per space: now (h-now), soon (h-soon, in 30 min), later (h-later, in 3 h), cancelled (h-gone).
    let bookings: [String: [String: Reservation]]

    init(backend: BookingBackend, nowMs: Int64) {
        self.backend = backend
        self.nowMs = nowMs
        let base = nowMs / 1000 * 1000
        var bookings: [String: [String: Reservation]] = [:]
        for door in Self.doors {
            func booking(_ kind: String, startInMin: Int64, endInMin: Int64) -> Reservation {
                Reservation(
                    id: "\(door.space)-\(kind)", spaceID: door.space, holder: "h-\(kind)",
                    startMs: base + startInMin * 60_000, endMs: base + endInMin * 60_000, version: 1)
            }
            bookings[door.space] = [
                "now": booking("now", startInMin: -10, endInMin: 120),
                "soon": booking("soon", startInMin: 30, endInMin: 90),
                "later": booking("later", startInMin: 180, endInMin: 240),
                "gone": booking("gone", startInMin: -10, endInMin: 120),
            ]
        }
        self.bookings = bookings
    }

    var spaces: [String] { Self.doors.map(\.space) }

    /// `site.locks` entries (quoted: they hold spaces).
    var lockEntries: [String] {
        Self.doors.map { door in
            let slots = door.profile == .zigbee2mqtt ? " slots=1-8" : ""
            return "\"\(door.lockID)@\(door.space) profile=\(door.profile.rawValue) device=\(door.device)\(slots)\""
        }
    }

    /// Every booking, then the cancels.
    var messages: [BookingMessage] {
        let all = bookings.values.flatMap(\.values).sorted { $0.id < $1.id }
        return all.map { .upsert($0) }
            + all.filter { $0.holder == "h-gone" }.map { .cancel(reservationID: $0.id, version: 2) }
    }

    /// Cards: h-now's opens where h-now has a booking now; h-later's nowhere yet.
    static let cards = [("h-now", "4200017"), ("h-later", "4200099")]

    func pin(_ space: String, _ kind: String) -> String {
        bookings[space]?[kind].map { backend.pin(for: $0) } ?? "-"
    }

    struct Devices {
        var boards: [String: SimulatedWiegandBoard] = [:]
        var zigbee: SimulatedZigbeeLock?
        var nuki: SimulatedNukiLock?
        /// Contract readers beside the Zigbee and Nuki doors.
        var readers: [String: SimulatedLock] = [:]
    }

    func start(endpoint: BrokerEndpoint, siteID: String, deviceKeys: DeviceKeys, logger: Logger) async throws -> Devices
    {
        var devices = Devices()
        for door in Self.doors {
            switch door.profile {
            case .esphomeWiegand, .tasmotaWiegand:
                let board = try SimulatedWiegandBoard(
                    broker: endpoint, profile: door.profile, device: door.device, logger: logger)
                try await board.start()
                devices.boards[door.lockID] = board
            case .zigbee2mqtt:
                let lock = try SimulatedZigbeeLock(broker: endpoint, device: door.device, logger: logger)
                try await lock.start()
                devices.zigbee = lock
            case .nuki:
                let lock = try SimulatedNukiLock(broker: endpoint, device: door.device, logger: logger)
                try await lock.start()
                devices.nuki = lock
            case .contract:
                break
            }
            if !door.profile.readsCredentials {
                let reader = try SimulatedLock(
                    broker: endpoint, siteID: siteID, lockID: door.lockID, spaceID: door.space,
                    lockKey: deviceKeys.lockKey(lockID: door.lockID), logger: logger)
                try await reader.start()
                devices.readers[door.lockID] = reader
            }
        }
        return devices
    }

    /// While the gateway runs: each dialect's oracle. Returns mismatches and summary lines.
    func play(_ devices: Devices) async throws -> (mismatches: [String], lines: [String]) {
        var mismatches: [String] = []
        var lines: [String] = []
        // Wiegand boards: (what is presented, whether the relay must pulse).
        for door in Self.doors where door.profile.readsCredentials {
            guard let board = devices.boards[door.lockID] else { continue }
            let attempts: [(String, Bool, () async throws -> Void)] = [
                ("code of a booking now", true, { try await board.enterCode(pin(door.space, "now")) }),
                ("code of a cancelled booking", false, { try await board.enterCode(pin(door.space, "gone")) }),
                ("code of a later booking", false, { try await board.enterCode(pin(door.space, "later")) }),
                ("card of a holder booked now", true, { try await board.presentCard(Self.cards[0].1) }),
                ("card of a holder booked later", false, { try await board.presentCard(Self.cards[1].1) }),
                ("unknown card", false, { try await board.presentCard("9990001") }),
            ]
            var matched = 0
            for (what, opens, attempt) in attempts {
                let before = board.pulses.count
                try await attempt()
                let pulse = await board.waitForPulse(after: before, timeout: .seconds(opens ? 10 : 2))
                if (pulse != nil) == opens {
                    matched += 1
                } else {
                    mismatches.append(
                        "\(door.profile.rawValue) \(door.lockID): \(what) \(opens ? "did not open" : "opened")")
                }
            }
            lines.append("  \(door.profile.rawValue): \(matched)/\(attempts.count) codes and cards as expected")
        }
        // Zigbee: the PINs of now and soon pushed, later and cancelled not; a grant unlocks it.
        if let zigbee = devices.zigbee, let reader = devices.readers["d-zig"] {
            let space = "dialect-zig"
            let pushed = await eventually(timeout: .seconds(30), every: .milliseconds(100)) {
                let held = Set(zigbee.slots.values)
                return held.contains(pin(space, "now")) && held.contains(pin(space, "soon"))
                    && !held.contains(pin(space, "later")) && !held.contains(pin(space, "gone"))
            }
            if !pushed {
                mismatches.append("zigbee2mqtt d-zig: slots hold \(zigbee.slots.count) PINs, not now and soon only")
            }
            let decision = try await reader.present(.pin(pin(space, "now")), requestID: "dialect-zig-1")
            let unlocked = await eventually(timeout: .seconds(10)) { zigbee.remoteUnlocks == 1 }
            if decision?["granted"] as? Bool != true || !unlocked {
                mismatches.append("zigbee2mqtt d-zig: a grant from its reader did not unlock it")
            }
            lines.append("  zigbee2mqtt: \(zigbee.slots.count) PINs pushed ahead, grant unlocked \(unlocked)")
        }
        // Nuki: a grant unlatches (lock action 3).
        if let nuki = devices.nuki, let reader = devices.readers["d-nuki"] {
            let decision = try await reader.present(.pin(pin("dialect-nuki", "now")), requestID: "dialect-nuki-1")
            let unlatched = await eventually(timeout: .seconds(10)) { nuki.actions == [3] }
            if decision?["granted"] as? Bool != true || !unlatched {
                mismatches.append("nuki d-nuki: a grant did not unlatch it (actions \(nuki.actions))")
            }
            let refused = try await reader.present(.pin(pin("dialect-nuki", "gone")), requestID: "dialect-nuki-2")
            if refused?["granted"] as? Bool != false || nuki.actions.count != 1 {
                mismatches.append("nuki d-nuki: a cancelled booking's PIN was not refused")
            }
            lines.append("  nuki: grant unlatched \(unlatched), cancelled refused")
        }
        return (mismatches, lines)
    }

    /// With the gateway stopped: the Zigbee lock's own keypad admits the pushed PINs only.
    func playWhileStopped(_ devices: Devices) async throws -> (mismatches: [String], lines: [String]) {
        guard let zigbee = devices.zigbee else { return ([], []) }
        var mismatches: [String] = []
        var opened = 0
        for (kind, opens) in [("now", true), ("soon", true), ("later", false), ("gone", false)] {
            let result = try await zigbee.keypad(pin("dialect-zig", kind))
            if result == opens {
                opened += result ? 1 : 0
            } else {
                mismatches.append(
                    "zigbee2mqtt d-zig with the gateway stopped: PIN of \(kind) \(result ? "opened" : "refused")")
            }
        }
        return (
            mismatches,
            ["  zigbee2mqtt with the gateway stopped: \(opened) pushed PINs opened the door, others refused"]
        )
    }

    static func registerCards(accessctl: String, config: String) async throws {
        for (holder, card) in cards {
            let result = try await ExternalTool.captureDetached(
                accessctl, ["holders", "card", "add", holder, card, "--config", config])
            guard result.status == 0 else { throw ScenarioError("accessctl holders card add: \(result.standardError)") }
        }
    }

    static func stop(_ devices: Devices) async {
        for board in devices.boards.values { await board.stop() }
        await devices.zigbee?.stop()
        await devices.nuki?.stop()
        for reader in devices.readers.values { await reader.stop() }
    }
}
