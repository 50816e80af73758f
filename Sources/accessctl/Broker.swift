import AccessConfiguration
import AccessCore
import AccessProtocol
import ArgumentParser
import Foundation

struct Broker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The site broker's access rules.", subcommands: [DynamicSecurity.self])

    struct DynamicSecurity: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dynsec",
            abstract: "Write mosquitto's dynamic-security file for the site: a role per lock, pole, gateway and user.",
            discussion: """
                The site's topics and inventory come from the gateway's configuration (or its store, when the
                configuration lists no inventory). Each client is a certificate's Common Name: a lock or pole by
                its id, a gateway as access-gateway-<id> and access-gateway-<id>-bookings, the booking backend,
                and each operator; a device-profile lock's device by its device name (Zigbee2MQTT as one
                bridge user), with grants on its own dialect topics only (docs/devices.md). Everything not granted is denied, subscriptions included (SUBACK 0x87), so
                no device can join $share/… or read another device's branch. Run it again, and restart
                mosquitto, after adding a lock or a pole. See config/mosquitto-site.conf.
                """)

        @OptionGroup var store: StoreOptions
        @Option(name: .customLong("gateway"), help: "Every gateway of the site (default: the configuration's).")
        var gateways: [String] = []
        @Option(name: .customLong("operator"), help: "An operator's user name (repeat for more; default: operator).")
        var operators: [String] = []
        @Option(help: "The booking backend's user name.") var bookingBackend = "booking-backend"
        @Option(help: "Home Assistant's user name (when the configuration turns discovery on).")
        var homeAssistant = "homeassistant"
        @Option(help: "Zigbee2MQTT's user name (when a lock has the zigbee2mqtt profile).")
        var zigbeeBridge = "zigbee2mqtt"
        @Option(help: "Write here (mode 0640) instead of standard output.") var output: String?

        func validate() throws {
            for name in gateways + operators + [bookingBackend, homeAssistant, zigbeeBridge]
            where !Identifier.isValid(name) {
                throw ValidationError("\"\(name)\" breaks the identifier rule [A-Za-z0-9][A-Za-z0-9._-]{0,63}")
            }
        }

        func run() async throws {
            let resolved = try await store.resolve()
            guard let configuration = resolved.configuration else {
                throw ValidationError("give --config FILE: the site's topics and gateway id come from it")
            }
            let site = configuration.inventoryFromStore ? try await store.open().loadSite() : configuration.site
            guard let site, !site.locks.isEmpty || !site.poles.isEmpty else {
                throw Failure("the site has no locks or poles yet: list them, or `accessctl site import` first")
            }
            let acl = SiteBrokerACL(
                topics: SiteTopics(prefix: configuration.topicPrefix, siteID: configuration.site.id),
                lockIDs: Array(site.locks.keys), poleIDs: Array(site.poles.keys),
                gatewayIDs: gateways.isEmpty ? [configuration.gatewayID] : gateways,
                sharedGroup: configuration.broker.sharedGroup,
                operators: operators.isEmpty ? ["operator"] : operators, bookingBackend: bookingBackend,
                homeAssistant: configuration.homeAssistant.enabled
                    ? SiteBrokerACL.HomeAssistant(
                        username: homeAssistant, prefix: configuration.homeAssistant.prefix,
                        remoteOpen: configuration.homeAssistant.remoteOpen) : nil,
                profileDevices: site.locks.values.compactMap { lock in
                    lock.device.map { SiteBrokerACL.ProfileDevice(profile: lock.profile, device: $0) }
                },
                profileTopics: ProfileTopics(zigbeeBase: configuration.profiles.zigbeeBaseTopic),
                zigbeeBridge: zigbeeBridge)
            guard let output else {
                print(acl.dynamicSecurityJSON, terminator: "")
                return
            }
            guard
                FileManager.default.createFile(
                    atPath: output, contents: Data(acl.dynamicSecurityJSON.utf8), attributes: [.posixPermissions: 0o640]
                )
            else { throw Failure("\(output): cannot write") }
            print("\(output): \(acl.clients.count) clients (\(site.locks.count) locks, \(site.poles.count) poles)")
        }
    }
}
