import AccessProtocol
import ArgumentParser
import Foundation
import Simulation

/// `lock-sim --profile …`: locks of hardware on the market, each in its own dialect.
enum DialectLocks {
    static func run(
        profile: DeviceProfile, endpoint: BrokerEndpoint, locks: [(id: String, space: String)], names: [String: String],
        zigbeeBase: String, script: String?
    ) async throws {
        var boards: [String: SimulatedWiegandBoard] = [:]
        var zigbee: [String: SimulatedZigbeeLock] = [:]
        var nuki: [String: SimulatedNukiLock] = [:]
        for lock in locks {
            let device = names[lock.id] ?? lock.id
            switch profile {
            case .esphomeWiegand, .tasmotaWiegand:
                let board = try SimulatedWiegandBoard(broker: endpoint, profile: profile, device: device)
                try await board.start()
                boards[lock.id] = board
            case .zigbee2mqtt:
                let simulated = try SimulatedZigbeeLock(broker: endpoint, device: device, base: zigbeeBase)
                try await simulated.start()
                zigbee[lock.id] = simulated
            case .nuki:
                let simulated = try SimulatedNukiLock(broker: endpoint, device: device)
                try await simulated.start()
                nuki[lock.id] = simulated
            case .contract:
                return
            }
        }
        print("lock-sim: \(locks.count) \(profile.rawValue) locks online")
        // The relay's pulses, as they come.
        let watched = boards
        let watcher = Task {
            var seen: [String: Int] = [:]
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(100))
                for (lockID, board) in watched {
                    let pulses = board.pulses
                    for pulse in pulses.dropFirst(seen[lockID] ?? 0) { print("\(lockID) relay pulsed \(pulse) ms") }
                    seen[lockID] = pulses.count
                }
            }
        }
        defer { watcher.cancel() }

        let lines = try scriptLines(script)
        var number = 0
        for line in lines {
            number += 1
            let words = line.split(separator: " ").map(String.init)
            guard let verb = words.first, !verb.hasPrefix("#") else { continue }
            if verb == "quit" { return }
            if verb == "sleep", words.count == 2, let ms = Int(words[1]) {
                try await Task.sleep(for: .milliseconds(ms))
                continue
            }
            guard words.count >= 2 else {
                FileHandle.standardError.write(Data("lock-sim: line \(number): cannot parse: \(line)\n".utf8))
                continue
            }
            let lockID = words[1]
            switch (verb, words.count) {
            case ("code", 3): try await boards[lockID]?.enterCode(words[2])
            case ("card", 3): try await boards[lockID]?.presentCard(words[2])
            case ("door", 3): try await boards[lockID]?.door(open: words[2] == "open")
            case ("keypad", 3):
                if let lock = zigbee[lockID] {
                    print("\(lockID) keypad \(try await lock.keypad(words[2]) ? "opened" : "refused")")
                }
            case ("slots", 2):
                if let lock = zigbee[lockID] { print("\(lockID) slots \(lock.slots.keys.sorted())") }
            case ("fail-writes", 3): zigbee[lockID]?.failWrites(words[2] == "on")
            case ("fail", 3): nuki[lockID]?.failWith(Int(words[2]))
            case ("offline", 2):
                await boards[lockID]?.powerCut()
                await zigbee[lockID]?.powerCut()
                await nuki[lockID]?.powerCut()
            default:
                FileHandle.standardError.write(Data("lock-sim: line \(number): cannot parse: \(line)\n".utf8))
            }
        }
        while true { try await Task.sleep(for: .seconds(3600)) }
    }
}
