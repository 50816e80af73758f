import AccessProtocol
import ArgumentParser
import Foundation

/// The operator CLI: works directly on the gateway's store and key files.
/// Exit status: 0 success, 1 a failure or a problem found (one line on stderr says which),
/// 64 bad usage (the usage is printed).
@main
struct AccessCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accessctl",
        abstract: "Operate an access gateway's store: reservations, audit, keys.",
        version: BuildInfo.versionText,
        subcommands: [
            Keys.self, SiteCommand.self, Reservations.self, Tokens.self, Pins.self, Audit.self, Devices.self, DB.self,
            Unlock.self, Bookings.self, Broker.self, Alarms.self, Holders.self,
        ]
    )

}
