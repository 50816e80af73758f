import AccessConfiguration
import AccessGateway
import AccessProtocol
import AccessStore
import ArgumentParser
import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// `access-gateway --config FILE`: the site's access gateway daemon.
@main
struct AccessGatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "access-gateway",
        abstract: "Decide door access for a site's locks over MQTT, audit every decision, watch locks and poles.",
        discussion: """
            Configuration is a YAML file (see config/gateway.example.yaml for every key and its default);
            environment variables override it: ACCESS_GATEWAY_ and the key in upper case with _ for . and between camelCase words
            (broker.port -> ACCESS_GATEWAY_BROKER_PORT). SIGTERM/SIGINT stop gracefully; SIGHUP reloads
            policy, issuers, inventory and keys. Exit status 78 means the configuration or the store was refused.
            """, version: BuildInfo.versionText)

    @Option(name: .long, help: "The YAML configuration file.")
    var config: String

    @Flag(help: "Check the configuration and key files, print a summary, and exit.")
    var checkConfig = false

    @Option(help: "Log lines as text (message then key=value), logfmt, or json; values that could split are quoted.")
    var logFormat: LogLineFormat = .text

    @Flag(
        name: .customLong("init"),
        help: """
            Create an empty store when the state directory held one that is gone (without it the \
            gateway refuses to start rather than forget every booking and the audit log).
            """)
    var initializeStore = false

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let configuration: GatewayConfiguration
        do {
            configuration = try await GatewayConfiguration.load(path: config, environment: environment)
            try GatewayApplication.checkKeys(configuration)
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("access-gateway: configuration refused: \(error)\n".utf8))
            throw ExitCode(78)
        }
        for warning in configuration.safetyWarnings {
            FileHandle.standardError.write(Data("access-gateway: warning: \(warning)\n".utf8))
        }
        if checkConfig {
            print(
                "configuration ok: gateway \(configuration.gatewayID), site \(configuration.site.id), "
                    + "\(configuration.site.locks.count) locks, \(configuration.site.poles.count) poles, "
                    + "\(configuration.issuers.count) issuers")
            return
        }

        let underJournal = environment["JOURNAL_STREAM"] != nil
        let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
        let format = logFormat
        LoggingSystem.bootstrap {
            JournalLogHandler(label: $0, level: level, underJournal: underJournal, format: format)
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = Logger(label: "access-gateway")

        do {
            let application = try GatewayApplication(
                configurationPath: config, configuration: configuration, environment: environment, logger: logger,
                initializeStore: initializeStore, metricsText: { registry.emitToBuffer() })
            let services = application.services + [application.supervisor()]
            var groupConfiguration = ServiceGroupConfiguration(
                services: services.map {
                    // A failing service (the HTTP port taken, say) stops the others gracefully, as a
                    // signal does: cancelling them outright could wait on a broker that is away.
                    .init(
                        service: $0, successTerminationBehavior: .gracefullyShutdownGroup,
                        failureTerminationBehavior: .gracefullyShutdownGroup)
                },
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            // A graceful stop drains at most the request lanes (10,000, a few seconds); past this
            // the services are cancelled, well within systemd's TimeoutStopSec (30 s).
            groupConfiguration.maximumGracefulShutdownDuration = .seconds(10)
            groupConfiguration.maximumCancellationDuration = .seconds(5)
            let group = ServiceGroup(configuration: groupConfiguration)
            try await group.run()
            logger.info("stopped", metadata: ["auditSeq": "\(application.context.auditLog.head.seq)"])
        } catch let error as ConfigurationError {
            logger.critical("configuration refused", metadata: ["key": "\(error.key)", "reason": "\(error.reason)"])
            throw ExitCode(78)
        } catch let error as StoreError {
            // A missing or malformed store: a restart would fail the same way; the operator acts.
            logger.critical("store refused", metadata: ["reason": "\(error)"])
            FileHandle.standardError.write(Data("access-gateway: store refused: \(error)\n".utf8))
            throw ExitCode(78)
        } catch {
            logger.critical("gateway failed", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
    }
}

extension LogLineFormat: ExpressibleByArgument {}
