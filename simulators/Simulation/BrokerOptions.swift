import ArgumentParser
import Foundation
import MQTT

/// `--broker` and how to authenticate, the same in every simulator.
public struct BrokerOptions: ParsableArguments {
    @Option(help: "The broker: host, or host:port (default port 1883, or 8883 with --tls-ca).")
    public var broker = "127.0.0.1"
    @Option(name: .customLong("tls-ca"), help: "Connect with TLS, verifying the broker against this CA file.")
    public var tlsCA: String?
    @Option(name: .customLong("tls-cert"), help: "A client certificate (with --tls-key), e.g. CN=<device id>.")
    public var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "The key of --tls-cert.")
    public var tlsKey: String?
    @Option(help: "User name for the broker.")
    public var username: String?
    @Option(help: "A file whose first line is the broker password (with --username).")
    public var passwordFile: String?

    public init() {}

    public func validate() throws {
        guard SimulatorOptions.broker(broker, defaultPort: 1883) != nil else {
            throw ValidationError("--broker must be host or host:port (port 1...65535), got \"\(broker)\"")
        }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
        if tlsCert != nil, tlsCA == nil { throw ValidationError("--tls-cert needs --tls-ca") }
        if passwordFile != nil, username == nil { throw ValidationError("--password-file needs --username") }
        for file in [tlsCA, tlsCert, tlsKey, passwordFile].compactMap(\.self)
        where !FileManager.default.isReadableFile(atPath: file) {
            throw ValidationError("\(file): cannot read")
        }
    }

    public func endpoint() throws -> BrokerEndpoint {
        guard let address = SimulatorOptions.broker(broker, defaultPort: tlsCA == nil ? 1883 : 8883) else {
            throw ValidationError("--broker must be host or host:port")
        }
        var password: String?
        if let passwordFile {
            guard let text = try? String(contentsOfFile: passwordFile, encoding: .utf8),
                let line = text.split(whereSeparator: \.isNewline).first
            else { throw ValidationError("\(passwordFile): no password in it") }
            password = String(line)
        }
        return BrokerEndpoint(
            host: address.host, port: address.port,
            tls: tlsCA.map { MQTTClient.TLS(caFile: $0, certificateFile: tlsCert, privateKeyFile: tlsKey) },
            username: username, password: password)
    }
}
