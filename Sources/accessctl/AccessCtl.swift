import ArgumentParser

/// The operator CLI. Issue 3 brings `reservations import`; the other subcommands follow.
@main
struct AccessCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accessctl",
        abstract: "Operate an access gateway's store: reservations, audit, keys.",
        subcommands: [Reservations.self]
    )
}
