import AccessCore
import AccessProtocol
import AccessStore
import ArgumentParser
import Foundation

struct Alarms: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The site's alarms: the open ones, their history, and acknowledging one.",
        subcommands: [List.self, Ack.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open alarms, oldest first (with --all, then the cleared ones).")
        @OptionGroup var store: StoreOptions
        @Flag(help: "Also the cleared alarms of the last 90 days, newest first.") var all = false
        @Flag(help: "One JSON object per line.") var json = false
        @Option(help: "At most this many of each.") var limit = 1000

        func validate() throws {
            guard (1...100_000).contains(limit) else { throw ValidationError("--limit must be 1 to 100000") }
        }

        func run() async throws {
            let alarms = try await store.open().alarms(includeCleared: all, limit: limit)
            if json {
                for stored in alarms {
                    let alarm = stored.alarm
                    print(
                        Output.json([
                            ("alarmId", .string(stored.alarmID)), ("type", .string(alarm.kind.rawValue)),
                            ("lockId", alarm.lockID.map(JSONValue.string)),
                            ("poleId", alarm.poleID.map(JSONValue.string)),
                            ("spaceId", alarm.spaceID.map(JSONValue.string)),
                            ("raised", .string(Output.time(alarm.timestampMs))),
                            ("detail", .string(alarm.detail)), ("open", .bool(stored.clearedMs == nil)),
                            ("cleared", stored.clearedMs.map { .string(Output.time($0)) }),
                            ("clearedBy", stored.clearedBy.map(JSONValue.string)),
                            ("operator", stored.operatorName.map(JSONValue.string)),
                            ("note", stored.note.map(JSONValue.string)),
                        ]))
                }
                return
            }
            Output.table(
                ["ALARM", "TYPE", "DEVICE", "RAISED", "STATE", "DETAIL"],
                alarms.map { stored in
                    let alarm = stored.alarm
                    let state =
                        stored.clearedMs.map { cleared in
                            let by = stored.operatorName.map { "by \($0)" } ?? "by \(stored.clearedBy ?? "?")"
                            return "cleared \(Output.time(cleared)) \(by)" + (stored.note.map { ": \($0)" } ?? "")
                        } ?? "open"
                    return [
                        stored.alarmID, alarm.kind.rawValue, alarm.lockID ?? alarm.poleID ?? alarm.spaceID ?? "-",
                        Output.time(alarm.timestampMs), state, alarm.detail,
                    ]
                })
        }
    }

    struct Ack: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Acknowledge an open alarm: the running gateway clears it, with your name and note.",
            discussion: """
                The request is written to the store; the gateway applies it within about a second: it publishes
                the alarm's end on R/alarms/cleared, updates R/alarms/active, logs it and keeps it in the history
                (`accessctl alarms --all`). The device's episode ends with it: the next one raises a new alarm.
                """)
        @OptionGroup var store: StoreOptions
        @Option(help: "Why (kept with the alarm).") var note: String
        @Option(name: .customLong("operator"), help: "Who (default: $SUDO_USER, then $USER).") var operatorName: String?
        @Argument(help: "The alarm id (from `accessctl alarms`).") var alarmID: String

        func validate() throws {
            guard Identifier.isValid(alarmID) else { throw ValidationError("\"\(alarmID)\" is not an alarm id") }
            guard !note.trimmingCharacters(in: .whitespaces).isEmpty, note.utf8.count <= 256 else {
                throw ValidationError("--note must say why, in at most 256 bytes")
            }
            if let operatorName, !Identifier.isValid(operatorName) {
                throw ValidationError("--operator must follow the identifier rule")
            }
        }

        func run() async throws {
            let who = operatorName ?? OperatorName.fromEnvironment(ProcessInfo.processInfo.environment)
            let store = try await self.store.open()
            do {
                try await store.requestAlarmAcknowledgement(
                    alarmID: alarmID, operatorName: who, note: note, nowMs: Int64(Date().timeIntervalSince1970 * 1000))
            } catch let error as AccessStore.AlarmAckError {
                throw Failure("\(error)")
            }
            print("alarm \(alarmID): acknowledged by \(who); the gateway clears it within a few seconds")
        }
    }
}

/// Who runs the command, for the audit: `$SUDO_USER` (the person behind sudo), then `$USER`.
enum OperatorName {
    static func fromEnvironment(_ environment: [String: String]) -> String {
        for key in ["SUDO_USER", "USER"] {
            if let name = environment[key], Identifier.isValid(name) { return name }
        }
        return "operator"
    }
}
