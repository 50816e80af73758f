import InMemoryLogging
import Logging

/// Loggers for tests: lines are kept in memory (swift-log's `InMemoryLogHandler`), never printed,
/// so a passing suite prints test results only; a test that wants to see what was logged reads
/// `handler.entries`.
public enum TestLogging {
    public static func logger(_ label: String, level: Logger.Level = .info) -> Logger {
        capturing(label, level: level).logger
    }

    /// A logger and the handler holding its lines.
    public static func capturing(_ label: String, level: Logger.Level = .info) -> (
        logger: Logger, handler: InMemoryLogHandler
    ) {
        var handler = InMemoryLogHandler()
        handler.logLevel = level
        let captured = handler
        return (Logger(label: label) { _ in captured }, handler)
    }
}
