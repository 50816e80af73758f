import AccessConfiguration
import Logging
import ServiceLifecycle
import UnixSignals

/// The gateway's dealings with systemd and the operator's signals: READY=1 once the device
/// connection is up and subscribed, WATCHDOG=1 while healthy, SIGHUP reloads the configuration,
/// STOPPING=1 when a graceful stop begins.
public final class SupervisorService: Service, Sendable {
    let application: GatewayApplication
    let notifier: SystemdNotifier

    init(application: GatewayApplication, environment: [String: String]) {
        self.application = application
        self.notifier = SystemdNotifier(environment: environment)
    }

    public func run() async throws {
        let context = application.context
        await withDiscardingTaskGroup { group in
            group.addTask {
                await self.application.readiness.wait()
                guard self.application.readiness.isReady else { return }
                let configuration = context.settings.configuration
                self.notifier.notify("READY=1\nSTATUS=serving site \(configuration.site.id)")
                context.logger.info(
                    "gateway ready",
                    metadata: [
                        "gateway": "\(context.gatewayID)", "site": "\(configuration.site.id)",
                        "locks": "\(configuration.site.locks.count)", "poles": "\(configuration.site.poles.count)",
                    ])
                guard let interval = self.notifier.watchdogInterval else { return }
                while !Task.isCancelled {
                    if self.application.healthProblem() == nil { self.notifier.notify("WATCHDOG=1") }
                    try? await Task.sleep(for: interval)
                }
            }
            group.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sighup) {
                    await self.reload()
                }
            }
            try? await gracefulShutdown()
            notifier.notify("STOPPING=1")
            context.logger.info("shutting down: no new requests, finishing those in flight")
            group.cancelAll()
        }
    }

    private func reload() async {
        notifier.notify("RELOADING=1")
        defer { notifier.notify("READY=1") }
        let logger = application.context.logger
        do {
            let fresh = try await GatewayConfiguration.load(
                path: application.configurationPath, environment: application.environment)
            try application.reload(fresh)
            logger.notice("configuration reloaded", metadata: ["path": "\(application.configurationPath)"])
        } catch {
            logger.error("reload refused, keeping the running configuration", metadata: ["reason": "\(error)"])
        }
    }
}
